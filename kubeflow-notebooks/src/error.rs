//! The error type of kubeflow-notebooks.

use std::time::Duration;

use crate::notebook::NotebookPhase;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error kubeflow-notebooks returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A notebook (or PodDefault, Profile) definition is invalid; nothing was sent.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field (`name`, `cpu_limit`, `gpus.vendor`, `data_volumes[1].mount_path`, …).
        field: String,
        /// What is wrong, and what is accepted.
        message: String,
    },

    /// A Kubernetes API call failed; `context` says which. For a rejected object the
    /// API server's own message (e.g. the CRD schema violation) is part of the text.
    #[error("{context}: {}", kube_message(source))]
    Kube {
        /// What we were doing (`creating notebook team-a/my-nb`).
        context: String,
        /// The error from kube.
        #[source]
        source: kube::Error,
    },

    /// The notebook's server will not start without a change (its container waits for a
    /// reason such as `ImagePullBackOff`, or it terminated).
    #[error("notebook {namespace}/{name} is not starting: {phase}")]
    NotStarting {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// The phase, with the container's waiting reason and message.
        phase: Box<NotebookPhase>,
    },

    /// The deadline passed before the notebook reached the awaited state.
    #[error("gave up waiting for notebook {namespace}/{name} to be {target} after {after:?}; it is {}", phase.as_ref().map(ToString::to_string).unwrap_or_else(|| "not found yet".into()))]
    Timeout {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// What we waited for (`ready`, `stopped`).
        target: &'static str,
        /// The deadline.
        after: Duration,
        /// The last phase observed (with the container's waiting reason), if any.
        phase: Option<Box<NotebookPhase>>,
    },

    /// The notebook does not exist (any more) while waiting for it.
    #[error(
        "notebook {namespace}/{name} was not found (deleted?) while waiting for it to be {target}"
    )]
    Gone {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// What we waited for.
        target: &'static str,
    },

    /// Connecting to the notebook's server failed.
    #[error("connecting to notebook {namespace}/{name}: {message}")]
    Connect {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// What went wrong.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<kubeflow_core::error::BoxError>,
    },

    /// An error from kubeflow-core (configuration, port-forward, waiting, HTTP).
    #[error(transparent)]
    Core(Box<kubeflow_core::Error>),
}

impl From<kubeflow_core::Error> for Error {
    fn from(e: kubeflow_core::Error) -> Self {
        Error::Core(Box::new(e))
    }
}

fn kube_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => {
            let mut text = format!("the API server said {} {}", s.code, s.reason);
            if !s.message.is_empty() {
                text.push_str(": ");
                text.push_str(&s.message);
            }
            text
        }
        other => other.to_string(),
    }
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn kube(context: impl Into<String>, source: kube::Error) -> Self {
        Error::Kube {
            context: context.into(),
            source,
        }
    }

    /// The HTTP status of the API server's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Kube {
                source: kube::Error::Api(s),
                ..
            } => Some(s.code),
            Error::Core(e) => e.status(),
            _ => None,
        }
    }

    /// The API server's message (e.g. a CRD schema violation), when it answered with an error.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            Error::Kube {
                source: kube::Error::Api(s),
                ..
            } => Some(&s.message),
            Error::Core(e) => e.api_error().map(|a| a.message.as_str()),
            _ => None,
        }
    }

    /// True when the object does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when the object already exists or changed meanwhile (HTTP 409).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }
}
