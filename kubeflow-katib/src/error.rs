//! The error type of kubeflow-katib.

use kubeflow_core::wait::WaitError;

use crate::validate::ValidationErrors;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error kubeflow-katib returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The experiment failed client-side validation (the rules of Katib's admission webhook);
    /// nothing was sent.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),

    /// The API server (or Katib's admission webhook) refused a create or an update. `message`
    /// is the server's text, verbatim.
    #[error("{operation} Experiment {experiment} was rejected (HTTP {code} {reason}): {message}")]
    Rejected {
        /// What we tried (`create`, `patch`).
        operation: &'static str,
        /// The experiment, as `namespace/name`.
        experiment: String,
        /// HTTP status.
        code: u16,
        /// The server's machine-readable reason (`Invalid`, `Forbidden`, `BadRequest`…).
        reason: String,
        /// The server's message, verbatim (for a webhook: `admission webhook "…" denied the
        /// request: …`).
        message: String,
        /// The underlying error.
        #[source]
        source: Box<kube::Error>,
    },

    /// The experiment failed while we waited for it.
    #[error("Experiment {namespace}/{name} failed: {reason}: {message}")]
    ExperimentFailed {
        /// Namespace.
        namespace: String,
        /// Experiment name.
        name: String,
        /// The `Failed` condition's reason (e.g. `ExperimentFailed`).
        reason: String,
        /// The `Failed` condition's message.
        message: String,
    },

    /// The operation is not allowed in the experiment's current state (e.g. restarting an
    /// experiment whose resume policy is `Never`).
    #[error("Experiment {namespace}/{name}: {message}")]
    NotAllowed {
        /// Namespace.
        namespace: String,
        /// Experiment name.
        name: String,
        /// Why.
        message: String,
    },

    /// Waiting failed (deadline, the experiment was deleted, the watch broke).
    #[error(transparent)]
    Wait(#[from] WaitError),

    /// An error from kubeflow-core (configuration, Kubernetes API, port-forward…).
    #[error(transparent)]
    Core(Box<kubeflow_core::Error>),

    /// A call to Katib's DB manager failed (feature `db-manager`).
    #[error("DB manager {method}: {message}{}", code.map(|c| format!(" (gRPC status {c})")).unwrap_or_default())]
    DbManager {
        /// The gRPC method.
        method: &'static str,
        /// The gRPC status code, when the service answered with one.
        code: Option<i32>,
        /// What went wrong (the service's `grpc-message` for gRPC errors).
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<kubeflow_core::error::BoxError>,
    },

    /// A value could not be converted to or from JSON.
    #[error("{context}: {source}")]
    Json {
        /// What was being converted.
        context: String,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
}

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        Error::Core(Box::new(kubeflow_core::Error::Kube(e)))
    }
}

impl From<kubeflow_core::Error> for Error {
    fn from(e: kubeflow_core::Error) -> Self {
        Error::Core(Box::new(e))
    }
}

impl Error {
    /// The HTTP status of the server's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Rejected { code, .. } => Some(*code),
            Error::Core(e) => e.status(),
            _ => None,
        }
    }

    /// True when the object does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when the object already exists (HTTP 409).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }
}
