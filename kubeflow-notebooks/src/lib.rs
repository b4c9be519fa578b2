//! # kubeflow-notebooks
//!
//! Kubeflow Notebooks for Rust: data scientists' Jupyter, VS Code and RStudio servers as code.
//!
//! - [`Notebook`] (`kubeflow.org/v1`; [`v1beta1::Notebook`] too), [`PodDefault`]
//!   (`kubeflow.org/v1alpha1`) and [`Profile`] (`kubeflow.org/v1`, cluster scoped): the
//!   custom resources, with fields this SDK does not model kept for read-modify-write.
//! - [`NotebookBuilder`]: image and server kind, CPU, memory, GPUs, workspace and data volumes,
//!   shared memory, environment, tolerations, affinity and PodDefaults, validated before
//!   anything is sent.
//! - [`NotebooksClient`]: create (with the PVCs), get, list, delete, stop and start (the
//!   `kubeflow-resource-stopped` annotation), wait until ready or stopped, the URL through the
//!   gateway, and a direct connection through a port-forward ([`NotebooksClient::connect`]);
//!   [`PodDefaults`] and [`Profiles`].
//!
//! It talks to the Kubernetes API (kubeconfig or in-cluster), as the Jupyter web app does.
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use kubeflow_notebooks::{NotebookBuilder, NotebookVolume, NotebooksClient};
//!
//! let client = kube::Client::try_default().await?;
//! let notebooks = NotebooksClient::from_kube(client).in_namespace("team-a");
//! notebooks
//!     .create(NotebookBuilder::new("my-nb", "kubeflownotebookswg/jupyter-scipy:v1.9.0")
//!         .cpu("1").memory("2Gi").workspace(NotebookVolume::new_pvc("10Gi")))
//!     .await?;
//! let nb = notebooks.wait_ready("my-nb").on_progress(|p| println!("{p}")).await?;
//! notebooks.stop("my-nb").await?;
//! # Ok(()) }
//! ```

mod builder;
mod client;
mod connect;
mod error;
pub mod notebook;
pub mod poddefault;
mod poddefaults;
pub mod profile;
mod profiles;
mod quantity;
mod validate;
mod wait;

pub use builder::{
    AccessMode, DEFAULT_SERVICE_ACCOUNT, GpuVendor, HOME, NotebookBuilder, NotebookRequest,
    NotebookVolume,
};
pub use client::NotebooksClient;
pub use connect::{Connect, NotebookConnection};
pub use error::{Error, Result};
pub use notebook::{
    Notebook, NotebookCondition, NotebookPhase, NotebookSpec, NotebookStatus, NotebookTemplate,
    ServerKind, v1beta1,
};
pub use poddefault::{PodDefault, PodDefaultSpec};
pub use poddefaults::PodDefaults;
pub use profile::{Profile, ProfileSpec, ProfileStatus};
pub use profiles::{Profiles, UserNamespace};
pub use wait::{DEFAULT_WAIT_TIMEOUT, WaitNotebook};
