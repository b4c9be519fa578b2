//! # kubeflow-katib
//!
//! Hyperparameter tuning with [Katib](https://www.kubeflow.org/docs/components/katib/) from Rust:
//! define the search, launch it, follow it, get the best hyperparameters.
//!
//! - Typed custom resources ([`Experiment`], [`Trial`], [`Suggestion`], `kubeflow.org/v1beta1`)
//!   that keep every field they do not model, so read-modify-write loses nothing.
//! - An [`ExperimentBuilder`] with [`search`] helpers (categorical values go into
//!   `feasibleSpace.list`, where Katib reads them), and [`validate`]: the rules of Katib's
//!   admission webhook, checked before anything is sent, with errors naming the field.
//! - [`tune`]: an experiment from a command template with `${trialParameters.x}` placeholders.
//! - [`KatibClient`]: create (the webhook's message surfaced verbatim), get, list, delete, edit
//!   the budget, restart, wait with progress, the optimal trial, trials with their metrics,
//!   suggestions, and the namespace label Katib needs.
//! - `db_manager` (feature `db-manager`): every reported metric value of a trial, from Katib's
//!   DB manager (gRPC) through a port-forward.
//!
//! ```no_run
//! use std::time::Duration;
//! use kubeflow_katib::{search, ExperimentBuilder, KatibClient, ObjectiveType, TrialTemplateBuilder};
//!
//! # async fn demo() -> Result<(), kubeflow_katib::Error> {
//! let katib = KatibClient::new(kube::Client::try_default().await?, "kubeflow-user");
//! let experiment = ExperimentBuilder::new("lr-search")
//!     .objective(ObjectiveType::Minimize, "loss")
//!     .goal(0.001)
//!     .algorithm("random")
//!     .parameter("lr", search::double(0.01, 0.05))
//!     .parameter("optimizer", search::categorical(["sgd", "adam"]))
//!     .trial_template(
//!         TrialTemplateBuilder::job("docker.io/me/train:1")
//!             .command(["python", "train.py", "--lr=${trialParameters.lr}",
//!                       "--optimizer=${trialParameters.optimizer}"]),
//!     )
//!     .max_trial_count(12)
//!     .parallel_trial_count(3)
//!     .build()?;
//! katib.create(&experiment).await?;
//! let done = katib
//!     .wait("lr-search")
//!     .timeout(Duration::from_secs(3600))
//!     .on_progress(|p| println!("{p}"))
//!     .await?;
//! println!("best: {:?}", done.optimal_trial().map(|t| t.parameters()));
//! # Ok(())
//! # }
//! ```

pub mod builder;
mod client;
#[cfg(feature = "db-manager")]
pub mod db_manager;
pub mod enums;
mod error;
pub mod search;
pub mod tune;
pub mod types;
pub mod validate;
mod wait;

pub use builder::{ExperimentBuilder, TrialTemplateBuilder};
pub use client::{EditBudget, KatibClient, METRICS_COLLECTOR_LABEL, NamespaceCheck, TrialSummary};
pub use enums::*;
pub use error::{Error, Result};
pub use tune::Tune;
pub use types::*;
pub use validate::{ValidationError, ValidationErrors, validate_experiment};
pub use wait::{ExperimentProgress, WaitExperiment};

pub use kubeflow_core;
