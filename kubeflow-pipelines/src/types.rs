//! Models shared by several API areas.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::serde_util::{kfp_enum, null_default};

/// Fields the server sent that this SDK does not know (kept so nothing is lost).
pub type Extra = BTreeMap<String, Value>;

kfp_enum! {
    /// The state of a run or a task (`RuntimeState`).
    #[derive(Default)]
    pub enum RuntimeState {
        /// Not set.
        #[default]
        Unspecified = ("RUNTIME_STATE_UNSPECIFIED", 0),
        /// Being prepared.
        Pending = ("PENDING", 1),
        /// Running.
        Running = ("RUNNING", 2),
        /// Finished successfully.
        Succeeded = ("SUCCEEDED", 3),
        /// Skipped (e.g. cached).
        Skipped = ("SKIPPED", 4),
        /// Failed.
        Failed = ("FAILED", 5),
        /// Being canceled (terminate was called).
        Canceling = ("CANCELING", 6),
        /// Canceled.
        Canceled = ("CANCELED", 7),
        /// Paused; it can be resumed.
        Paused = ("PAUSED", 8),
    }
}

impl RuntimeState {
    /// True for the states a run does not leave by itself: SUCCEEDED, FAILED, SKIPPED and
    /// CANCELED (the server's own list; CANCELING and PAUSED are not final).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RuntimeState::Succeeded
                | RuntimeState::Failed
                | RuntimeState::Skipped
                | RuntimeState::Canceled
        )
    }
}

kfp_enum! {
    /// Whether an experiment or a run is archived.
    pub enum StorageState {
        /// Not set.
        Unspecified = ("STORAGE_STATE_UNSPECIFIED", 0),
        /// Available (not archived).
        Available = ("AVAILABLE", 1),
        /// Archived.
        Archived = ("ARCHIVED", 2),
    }
}

/// An error the server attached to an object (`google.rpc.Status`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Status {
    /// gRPC code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Details (`google.protobuf.Any` values).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub details: Vec<Value>,
}

/// Runtime parameters and the pipeline root of a run or a recurring run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// Values of the pipeline's input parameters (any JSON value).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub parameters: BTreeMap<String, Value>,
    /// Where the run's artifacts go (e.g. `s3://bucket/root`); the server's default if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_root: Option<String>,
}

impl RuntimeConfig {
    pub(crate) fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.pipeline_root.is_none()
    }
}

/// A pipeline version, or the latest version of a pipeline when `pipeline_version_id` is unset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PipelineVersionReference {
    /// The pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// The version; the server takes the latest when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_version_id: Option<String>,
}

impl PipelineVersionReference {
    /// One version of a pipeline.
    pub fn new(pipeline_id: impl Into<String>, pipeline_version_id: impl Into<String>) -> Self {
        PipelineVersionReference {
            pipeline_id: Some(pipeline_id.into()),
            pipeline_version_id: Some(pipeline_version_id.into()),
        }
    }

    /// The latest version of a pipeline.
    pub fn latest(pipeline_id: impl Into<String>) -> Self {
        PipelineVersionReference {
            pipeline_id: Some(pipeline_id.into()),
            pipeline_version_id: None,
        }
    }
}

/// What a run or a recurring run executes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PipelineSource {
    /// A stored pipeline version (or the latest version of a pipeline).
    Version(PipelineVersionReference),
    /// An inline compiled pipeline.
    Spec(crate::PipelineSpec),
}

impl From<PipelineVersionReference> for PipelineSource {
    fn from(r: PipelineVersionReference) -> Self {
        PipelineSource::Version(r)
    }
}

impl From<crate::PipelineSpec> for PipelineSource {
    fn from(s: crate::PipelineSpec) -> Self {
        PipelineSource::Spec(s)
    }
}

impl From<&crate::PipelineVersion> for PipelineSource {
    /// The version itself.
    fn from(v: &crate::PipelineVersion) -> Self {
        PipelineSource::Version(PipelineVersionReference {
            pipeline_id: v.pipeline_id.clone(),
            pipeline_version_id: v.pipeline_version_id.clone(),
        })
    }
}

/// Converts a value for a runtime parameter; fails for values JSON cannot hold (the message
/// says why).
/// Sets runtime parameter `name` for the run builders; a value that does not serialise is
/// recorded as the builder's first invalid argument (reported by `send()`).
pub(crate) fn set_param<V: Serialize>(
    config: &mut RuntimeConfig,
    first_error: &mut Option<(String, String)>,
    name: String,
    value: V,
) {
    match serde_json::to_value(value) {
        Ok(v) => {
            config.parameters.insert(name, v);
        }
        Err(e) => {
            first_error.get_or_insert((format!("parameter `{name}`"), e.to_string()));
        }
    }
}
