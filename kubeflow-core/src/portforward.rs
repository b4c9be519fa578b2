//! A native port-forward to a Service or a Pod (what `kubectl port-forward` does).

/// Errors of a port-forward.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Service has no selector (ExternalName, or Endpoints managed by hand).
    #[error("service {namespace}/{service} has no selector, so no pod can be chosen to forward to")]
    NoSelector {
        /// Namespace.
        namespace: String,
        /// Service.
        service: String,
    },
}
