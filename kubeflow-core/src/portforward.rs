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

// Temporary shim so the HTTP layer's port-forward transport compiles before the
// port-forward module lands (replaced by it).
#[doc(hidden)]
#[derive(Debug)]
pub struct PortForward;
#[doc(hidden)]
#[derive(Debug)]
pub struct PortForwardHandle;
impl PortForward {
    #[doc(hidden)]
    pub fn to_service(
        _c: kube::Client,
        namespace: &str,
        service: &str,
        _p: u16,
    ) -> PortForwardStart {
        PortForwardStart(namespace.to_owned(), service.to_owned())
    }
}
#[doc(hidden)]
#[derive(Debug)]
pub struct PortForwardStart(String, String);
impl PortForwardStart {
    #[doc(hidden)]
    pub async fn start(self) -> Result<PortForwardHandle, Error> {
        Err(Error::NoSelector {
            namespace: self.0,
            service: self.1,
        })
    }
}
impl PortForwardHandle {
    #[doc(hidden)]
    pub fn local_addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], 0))
    }
}
