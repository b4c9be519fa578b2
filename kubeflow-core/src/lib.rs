//! # kubeflow-core
//!
//! The shared foundation of the Kubeflow Rust SDK (`kubeflow-rs`). Every component crate
//! (`kubeflow-pipelines`, `kubeflow-katib`, `kubeflow-serving`, `kubeflow-notebooks`) builds on it.
//!
//! - [`config`]: where Kubeflow is ([`Endpoint`]) and how to reach it ([`KubeflowConfig`],
//!   [`KubeflowConfig::infer`]).
//! - [`auth`]: who we are ([`Credentials`]): bearer tokens, token files, Dex password login
//!   through the gateway, cookies, Kubernetes TokenRequest, or the kubeconfig identity.
//! - [`http`]: the HTTP layer every REST client shares (pooling, timeouts, retries,
//!   re-authentication, tracing) and a raw escape hatch.
//! - [`error`]: one [`Error`] type with the API error shapes of every Kubeflow server.
//! - [`portforward`]: a native port-forward to a Service or a Pod (what `kubectl port-forward` does).
//! - [`wait`]: wait until a condition holds, with a deadline and observable progress.
//! - [`discovery`]: which Kubeflow components a cluster has.
//!
//! Constructors never do network I/O: calls such as [`discovery::discover`] are explicit.
//!
//! ## TLS
//! kubeflow-rs uses rustls with the `aws-lc-rs` provider (kube and reqwest agree on it). If your
//! program forces `ring`, install a process-wide provider before building a client.

pub mod auth;
mod client;
pub mod config;
pub mod discovery;
pub mod error;
pub mod http;
pub mod portforward;
pub mod wait;

pub use auth::Credentials;
pub use client::{KubeflowClient, KubeflowClientBuilder};
pub use config::{Endpoint, KubeflowConfig};
pub use error::{ApiError, DecodeError, Error, Result};

/// The user agent every request carries: `kubeflow-rs/<version>`.
pub const USER_AGENT: &str = concat!("kubeflow-rs/", env!("CARGO_PKG_VERSION"));

pub use kube;
pub use secrecy;
