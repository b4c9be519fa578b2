//! Runs: the models; the operations are in [`RunsApi`].

mod api;
mod wait;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use api::{CreateRun, ListRuns, RunsApi};
pub use wait::WaitRun;

use crate::serde_util::null_default;
use crate::types::{Extra, Status};
use crate::{PipelineSpec, PipelineVersionReference, RuntimeConfig, RuntimeState, StorageState};

/// A run of a pipeline.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Run {
    /// The experiment; the server's default experiment when unset at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_id: Option<String>,
    /// Server-assigned id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Name shown in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Archived or available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_state: Option<StorageState>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Deprecated source: a pipeline version id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_version_id: Option<String>,
    /// Source: an inline compiled pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_spec: Option<PipelineSpec>,
    /// Source: a stored pipeline version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_version_reference: Option<PipelineVersionReference>,
    /// Parameters and pipeline root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_config: Option<RuntimeConfig>,
    /// Kubernetes service account the run's pods use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Creation time.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<DateTime<Utc>>,
    /// When it was scheduled.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// When it finished; `None` while running (the server sends the Unix epoch).
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_at: Option<DateTime<Utc>>,
    /// Current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RuntimeState>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
    /// Tasks and MLMD contexts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_details: Option<RunDetails>,
    /// The recurring run that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_run_id: Option<String>,
    /// Past states.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub state_history: Vec<RuntimeStatus>,
    /// Plugin inputs (2.17+), as JSON.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugins_input: BTreeMap<String, Value>,
    /// Plugin outputs (2.17+), as JSON.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugins_output: BTreeMap<String, Value>,
    /// Fields this SDK does not know.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

impl Run {
    /// The state, `Unspecified` when the server sent none.
    pub fn state(&self) -> RuntimeState {
        self.state.clone().unwrap_or_default()
    }

    /// True once the run is SUCCEEDED, FAILED, SKIPPED or CANCELED.
    pub fn is_finished(&self) -> bool {
        self.state().is_terminal()
    }

    /// The run's parameters (empty when none were given).
    pub fn parameters(&self) -> BTreeMap<String, Value> {
        self.runtime_config
            .as_ref()
            .map(|c| c.parameters.clone())
            .unwrap_or_default()
    }
}

/// A state a run or task was in, and since when.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RuntimeStatus {
    /// When the state was entered.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub update_time: Option<DateTime<Utc>>,
    /// The state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RuntimeState>,
    /// The error, for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
}

/// Tasks of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunDetails {
    /// MLMD context of the pipeline.
    #[serde(
        default,
        with = "crate::serde_util::int64",
        skip_serializing_if = "Option::is_none"
    )]
    pub pipeline_context_id: Option<i64>,
    /// MLMD context of the run.
    #[serde(
        default,
        with = "crate::serde_util::int64",
        skip_serializing_if = "Option::is_none"
    )]
    pub pipeline_run_context_id: Option<i64>,
    /// The tasks.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub task_details: Vec<PipelineTaskDetail>,
}

/// One task of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PipelineTaskDetail {
    /// The run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Task id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Name shown in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Creation time.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub create_time: Option<DateTime<Utc>>,
    /// Start time.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<DateTime<Utc>>,
    /// End time.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<DateTime<Utc>>,
    /// Argo jobs of the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_detail: Option<Value>,
    /// State.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RuntimeState>,
    /// MLMD execution id.
    #[serde(
        default,
        with = "crate::serde_util::int64",
        skip_serializing_if = "Option::is_none"
    )]
    pub execution_id: Option<i64>,
    /// Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
    /// Input artifacts (MLMD ids) by name.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub inputs: BTreeMap<String, ArtifactList>,
    /// Output artifacts (MLMD ids) by name.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub outputs: BTreeMap<String, ArtifactList>,
    /// Parent task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_task_id: Option<String>,
    /// Past states.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub state_history: Vec<RuntimeStatus>,
    /// The pod (the Argo node id, used by [`RunsApi::read_artifact`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,
    /// Child tasks (`{task_id}` or `{pod_name}`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub child_tasks: Vec<Value>,
    /// Fields this SDK does not know.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// MLMD artifact ids.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArtifactList {
    /// The ids.
    #[serde(default, with = "crate::serde_util::int64::vec")]
    pub artifact_ids: Vec<i64>,
}
