//! The tasks of a DAG (`PipelineTaskSpec`) and where their inputs come from.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Extra;
use super::de::deserialize_with_other;
use super::enums::TriggerStrategy;

fn is_empty_map<K, V>(map: &BTreeMap<K, V>) -> bool {
    map.is_empty()
}

/// A task of a DAG (`PipelineTaskSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PipelineTaskSpec {
    /// The task's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_info: Option<PipelineTaskInfo>,
    /// Where its inputs come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<TaskInputsSpec>,
    /// Tasks that must finish first (explicit `after` and data edges).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependent_tasks: Vec<String>,
    /// Caching options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caching_options: Option<CachingOptions>,
    /// The component it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_ref: Option<ComponentRef>,
    /// When it runs (conditions, exit handlers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_policy: Option<TriggerPolicy>,
    /// Loop over artifacts (`ParallelFor` over a list of artifacts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_iterator: Option<ArtifactIteratorSpec>,
    /// Loop over a parameter (`ParallelFor`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_iterator: Option<ParameterIteratorSpec>,
    /// Retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// Loop parallelism.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iterator_policy: Option<IteratorPolicy>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PipelineTaskSpec {
    task_info: "taskInfo",
    inputs: "inputs",
    dependent_tasks: "dependentTasks",
    caching_options: "cachingOptions",
    component_ref: "componentRef",
    trigger_policy: "triggerPolicy",
    artifact_iterator: "artifactIterator",
    parameter_iterator: "parameterIterator",
    retry_policy: "retryPolicy",
    iterator_policy: "iteratorPolicy",
});

/// The name of a task (`PipelineTaskInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PipelineTaskInfo {
    /// The name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PipelineTaskInfo { name: "name" });

/// Caching options of a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CachingOptions {
    /// Whether cached results may be reused (the compiler writes `true` by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_cache: Option<bool>,
    /// A custom cache key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(CachingOptions {
    enable_cache: "enableCache",
    cache_key: "cacheKey",
});

/// A reference to a component by name (`ComponentRef`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ComponentRef {
    /// The component's key in `components` (`comp-…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ComponentRef { name: "name" });

/// When a task runs (`TriggerPolicy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TriggerPolicy {
    /// A CEL condition over the task's inputs, e.g.
    /// `inputs.parameter_values['pipelinechannel--flip-coin-Output'] == 'heads'`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Whether it waits for upstream success or completion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<TriggerStrategy>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(TriggerPolicy {
    condition: "condition",
    strategy: "strategy",
});

/// Loop over a list of artifacts (`ArtifactIteratorSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ArtifactIteratorSpec {
    /// The input artifact list iterated over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<ArtifactItemsSpec>,
    /// The name of the input holding one item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_input: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ArtifactIteratorSpec {
    items: "items",
    item_input: "itemInput",
});

/// The artifact list of an [`ArtifactIteratorSpec`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ArtifactItemsSpec {
    /// The input artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_artifact: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ArtifactItemsSpec {
    input_artifact: "inputArtifact",
});

/// Loop over a parameter (`ParameterIteratorSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParameterIteratorSpec {
    /// The items: a raw JSON list or an input parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<ParameterItemsSpec>,
    /// The name of the input holding one item (`pipelinechannel--loop-item-param-N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_input: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ParameterIteratorSpec {
    items: "items",
    item_input: "itemInput",
});

/// The items of a [`ParameterIteratorSpec`]: one of `raw` or `inputParameter`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParameterItemsSpec {
    /// A JSON list as text, e.g. `[1, 2, 3]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// An input parameter holding the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_parameter: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ParameterItemsSpec {
    raw: "raw",
    input_parameter: "inputParameter",
});

/// Retries of a task (`RetryPolicy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RetryPolicy {
    /// How many times to retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retry_count: Option<i32>,
    /// Initial backoff, a protobuf duration such as `0s` or `3600s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_duration: Option<String>,
    /// Backoff multiplier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_factor: Option<f64>,
    /// Longest backoff, a protobuf duration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_max_duration: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(RetryPolicy {
    max_retry_count: "maxRetryCount",
    backoff_duration: "backoffDuration",
    backoff_factor: "backoffFactor",
    backoff_max_duration: "backoffMaxDuration",
});

/// Loop parallelism (`IteratorPolicy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IteratorPolicy {
    /// How many iterations run at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallelism_limit: Option<i32>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(IteratorPolicy {
    parallelism_limit: "parallelismLimit",
});

/// Where the inputs of a task come from (`TaskInputsSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskInputsSpec {
    /// Input parameters by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub parameters: BTreeMap<String, InputParameterSpec>,
    /// Input artifacts by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub artifacts: BTreeMap<String, InputArtifactSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(TaskInputsSpec {
    parameters: "parameters",
    artifacts: "artifacts",
});

/// Where an input parameter of a task comes from: one of the fields is set
/// (`TaskInputsSpec.InputParameterSpec`). Also used by the kfp-kubernetes platform config.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InputParameterSpec {
    /// An output parameter of another task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_output_parameter: Option<TaskOutputParameterSpec>,
    /// A constant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_value: Option<ValueOrRuntimeParameter>,
    /// An input parameter of the enclosing component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_input_parameter: Option<String>,
    /// The final status of a task (exit handlers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_final_status: Option<TaskFinalStatusSpec>,
    /// A CEL expression applied to the value, e.g. `parseJson(string_value)["a"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_expression_selector: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(InputParameterSpec {
    task_output_parameter: "taskOutputParameter",
    runtime_value: "runtimeValue",
    component_input_parameter: "componentInputParameter",
    task_final_status: "taskFinalStatus",
    parameter_expression_selector: "parameterExpressionSelector",
});

impl InputParameterSpec {
    /// An input parameter of the enclosing component.
    pub fn component_input(name: impl Into<String>) -> Self {
        Self {
            component_input_parameter: Some(name.into()),
            ..Self::default()
        }
    }

    /// An output parameter of another task.
    pub fn task_output(producer_task: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            task_output_parameter: Some(TaskOutputParameterSpec {
                producer_task: Some(producer_task.into()),
                output_parameter_key: Some(key.into()),
                other: Extra::new(),
            }),
            ..Self::default()
        }
    }

    /// A constant value.
    pub fn constant(value: Value) -> Self {
        Self {
            runtime_value: Some(ValueOrRuntimeParameter::constant(value)),
            ..Self::default()
        }
    }

    /// The final status of `producer_task`.
    pub fn task_final_status(producer_task: impl Into<String>) -> Self {
        Self {
            task_final_status: Some(TaskFinalStatusSpec {
                producer_task: Some(producer_task.into()),
                other: Extra::new(),
            }),
            ..Self::default()
        }
    }
}

/// An output parameter of another task.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskOutputParameterSpec {
    /// The task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_task: Option<String>,
    /// Its output parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_parameter_key: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(TaskOutputParameterSpec {
    producer_task: "producerTask",
    output_parameter_key: "outputParameterKey",
});

/// The final status of a task.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskFinalStatusSpec {
    /// The task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_task: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(TaskFinalStatusSpec {
    producer_task: "producerTask",
});

/// A constant or a runtime parameter: one of the fields is set (`ValueOrRuntimeParameter`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ValueOrRuntimeParameter {
    /// A constant (any JSON value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constant: Option<Value>,
    /// A runtime parameter by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_parameter: Option<String>,
    /// Fields not modelled here (including the deprecated `constantValue`), kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ValueOrRuntimeParameter {
    constant: "constant",
    runtime_parameter: "runtimeParameter",
});

impl ValueOrRuntimeParameter {
    /// A constant.
    pub fn constant(value: Value) -> Self {
        Self {
            constant: Some(value),
            ..Self::default()
        }
    }
}

/// Where an input artifact of a task comes from: one of the fields is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InputArtifactSpec {
    /// An output artifact of another task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_output_artifact: Option<TaskOutputArtifactSpec>,
    /// An input artifact of the enclosing component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_input_artifact: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(InputArtifactSpec {
    task_output_artifact: "taskOutputArtifact",
    component_input_artifact: "componentInputArtifact",
});

impl InputArtifactSpec {
    /// An input artifact of the enclosing component.
    pub fn component_input(name: impl Into<String>) -> Self {
        Self {
            component_input_artifact: Some(name.into()),
            ..Self::default()
        }
    }

    /// An output artifact of another task.
    pub fn task_output(producer_task: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            task_output_artifact: Some(TaskOutputArtifactSpec {
                producer_task: Some(producer_task.into()),
                output_artifact_key: Some(key.into()),
                other: Extra::new(),
            }),
            ..Self::default()
        }
    }
}

/// An output artifact of another task.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskOutputArtifactSpec {
    /// The task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_task: Option<String>,
    /// Its output artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_artifact_key: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(TaskOutputArtifactSpec {
    producer_task: "producerTask",
    output_artifact_key: "outputArtifactKey",
});
