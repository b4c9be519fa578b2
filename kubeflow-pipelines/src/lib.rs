//! # kubeflow-pipelines
//!
//! A typed async client for the Kubeflow Pipelines (KFP) v2beta1 REST API, built on
//! [`kubeflow_core`] (endpoints, credentials, retries, errors); the pipeline IR ([`spec`]),
//! a Rust DSL that compiles to it as the official compiler does ([`dsl`]), and a local runner
//! that runs any compiled pipeline on this machine without a cluster ([`local`]).
//!
//! ```no_run
//! # async fn f() -> kubeflow_pipelines::Result<()> {
//! use std::time::Duration;
//! use futures::TryStreamExt;
//! use kubeflow_pipelines::{Filter, KubeflowConfig, PipelinePackage, PipelinesClient};
//!
//! let kfp = PipelinesClient::from_config(KubeflowConfig::infer().await?)?;
//! let pipeline = kfp.pipelines().upload(PipelinePackage::file("pipeline.yaml")).send().await?;
//! let exp = kfp.experiments().create("demo").send().await?;
//! let run = kfp.runs()
//!     .create("first run")
//!     .latest_version_of(pipeline.pipeline_id.unwrap_or_default())
//!     .param("lr", 0.01)
//!     .experiment(exp.id()?)
//!     .send()
//!     .await?;
//! let done = kfp.runs()
//!     .wait(run.run_id.unwrap_or_default())
//!     .timeout(Duration::from_secs(3600))
//!     .await?;
//! println!("{}", done.state());
//!
//! let mut failed = kfp.runs().list().filter(Filter::eq("state", "FAILED")).stream();
//! while let Some(run) = failed.try_next().await? {
//!     println!("{:?}", run.display_name);
//! }
//! # Ok(()) }
//! ```
//!
//! ## What the server sends, and what we send
//! Models follow the server's JSON: snake_case names, int64 as strings (numbers are read
//! too), enums as names with an `Unknown(String)` fallback for values from newer servers,
//! RFC 3339 timestamps where `1970-01-01T00:00:00Z` (an unfinished run's `finished_at`) reads
//! as `None`, and unknown fields kept in `extra`. Requests never carry a field you did not
//! set: the server rejects fields it does not know, so an older server keeps working.
//!
//! ## Coverage
//! Every operation the v2beta1 server serves: healthz; pipelines (create, get, get by name,
//! list, update, delete with cascade, create with a first version, multipart upload and
//! upload of a version); pipeline versions (create from a URL or an inline spec, get, list,
//! update, delete); experiments (create, get, get by name, list, archive, unarchive,
//! delete); runs (create from a version or an inline spec, get, list, archive, unarchive,
//! delete, terminate, retry, read an artifact, wait); recurring runs (create with a cron or
//! periodic trigger, get, list, enable, disable, delete).
//!
//! The v2beta1 swagger also lists operations the server does **not** serve on v2beta1, so
//! this crate has no method for them:
//! - `GET /apis/v2beta1/auth` (`AuthService.Authorize`) and
//!   `POST /apis/v2beta1/visualizations/{namespace}`: only their v1beta1 routes are served;
//! - `GET /apis/v2beta1/filters`: exists only to generate the `Filter` type;
//! - `POST /apis/v2beta1/workflows` and `/scheduledworkflows` (`ReportService`): internal,
//!   used by the persistence agent.
//!
//! Use [`PipelinesClient::raw`] for anything else.

mod client;
mod compiled;
mod experiments;
mod filter;
mod list;
mod pipelines;
mod recurring_runs;
mod runs;
mod serde_util;
mod types;

pub use client::{DEFAULT_USERID_HEADER, Healthz, PipelinesClient};
pub use compiled::PipelineSpec;
pub use experiments::{CreateExperiment, Experiment, ExperimentsApi, ListExperiments};
pub use filter::{Filter, FilterValue, FilterValues, Operation, Predicate};
pub use list::{List, Page};
pub use pipelines::{
    CreatePipeline, CreatePipelineVersion, ListPipelineVersions, ListPipelines, MAX_PACKAGE_SIZE,
    PackageUrl, Pipeline, PipelinePackage, PipelineVersion, PipelineVersionsApi, PipelinesApi,
    UpdatePipeline, UploadPipeline, UploadPipelineVersion,
};
pub use recurring_runs::{
    CreateRecurringRun, CronSchedule, DeletePropagationPolicy, ListRecurringRuns, PeriodicSchedule,
    RecurringRun, RecurringRunMode, RecurringRunStatus, RecurringRunsApi, Trigger,
};
pub use runs::{
    ArtifactList, CreateRun, ListRuns, PipelineTaskDetail, Run, RunDetails, RunsApi, RuntimeStatus,
    WaitRun,
};
pub use types::{
    Extra, PipelineSource, PipelineVersionReference, RuntimeConfig, RuntimeState, Status,
    StorageState,
};

pub use kubeflow_core;

pub mod dsl;
pub mod local;
pub mod spec;
pub use kubeflow_core::wait::WaitEvent;
pub use kubeflow_core::{Error, KubeflowClient, KubeflowConfig, Result};

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
