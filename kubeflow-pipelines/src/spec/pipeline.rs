//! `PipelineSpec` and the component, DAG and task messages it holds.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Extra;
use super::de::deserialize_with_other;
use super::deployment::DeploymentSpec;
use super::enums::{ParameterType, PrimitiveType, TaskConfigPassthroughType};
use super::platform::SinglePlatformSpec;
use super::task::PipelineTaskSpec;

fn is_empty_map<K, V>(map: &BTreeMap<K, V>) -> bool {
    map.is_empty()
}

/// A compiled pipeline: the first document of a pipeline package (`ml_pipelines.PipelineSpec`).
///
/// Fields this version does not model are kept in [`other`](Self::other), so reading and
/// writing a pipeline loses nothing.
///
/// ```
/// use kubeflow_pipelines::spec::PipelineSpec;
///
/// let spec: PipelineSpec = serde_json::from_value(serde_json::json!({
///     "pipelineInfo": {"name": "hello"},
///     "root": {"dag": {"tasks": {}}},
///     "schemaVersion": "2.1.0",
///     "sdkVersion": "kfp-2.17.3",
/// }))?;
/// assert_eq!(spec.name(), Some("hello"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PipelineSpec {
    /// Name, display name and description of the pipeline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_info: Option<PipelineInfo>,
    /// Executors of the components, by executor label (`exec-…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_spec: Option<DeploymentSpec>,
    /// The SDK that compiled the pipeline, e.g. `kfp-2.17.3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk_version: Option<String>,
    /// The IR schema version, `2.1.0` for current SDKs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Components by name (`comp-…`).
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub components: BTreeMap<String, ComponentSpec>,
    /// The root component: the pipeline's DAG, inputs and outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<ComponentSpec>,
    /// Default root of the artifacts, e.g. `minio://mlpipeline/v2/artifacts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_pipeline_root: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PipelineSpec {
    pipeline_info: "pipelineInfo",
    deployment_spec: "deploymentSpec",
    sdk_version: "sdkVersion",
    schema_version: "schemaVersion",
    components: "components",
    root: "root",
    default_pipeline_root: "defaultPipelineRoot",
});

impl PipelineSpec {
    /// The pipeline name (`pipelineInfo.name`).
    pub fn name(&self) -> Option<&str> {
        self.pipeline_info.as_ref()?.name.as_deref()
    }
}

/// Name, display name and description of a pipeline (`PipelineInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PipelineInfo {
    /// The name (also the MLMD pipeline context).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PipelineInfo {
    name: "name",
    display_name: "displayName",
    description: "description",
});

/// A component: its inputs, outputs and implementation, a DAG or an executor (`ComponentSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ComponentSpec {
    /// Inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_definitions: Option<ComponentInputsSpec>,
    /// Outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_definitions: Option<ComponentOutputsSpec>,
    /// The sub-DAG, for pipelines, conditions, loops and exit handlers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dag: Option<DagSpec>,
    /// The executor (`exec-…`) in `deploymentSpec.executors`, for leaf components.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executor_label: Option<String>,
    /// Platform-specific configuration attached to the component.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub single_platform_specs: Vec<SinglePlatformSpec>,
    /// Task configuration passed through to the component (kfp 2.15+).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_config_passthroughs: Vec<TaskConfigPassthrough>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ComponentSpec {
    input_definitions: "inputDefinitions",
    output_definitions: "outputDefinitions",
    dag: "dag",
    executor_label: "executorLabel",
    single_platform_specs: "singlePlatformSpecs",
    task_config_passthroughs: "taskConfigPassthroughs",
});

/// A task configuration field passed through to a component (`TaskConfigPassthrough`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskConfigPassthrough {
    /// The field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<TaskConfigPassthroughType>,
    /// Whether it also applies to the task itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_to_task: Option<bool>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(TaskConfigPassthrough {
    field: "field",
    apply_to_task: "applyToTask",
});

/// A DAG: tasks by name and the DAG's outputs (`DagSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DagSpec {
    /// Tasks by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub tasks: BTreeMap<String, PipelineTaskSpec>,
    /// Outputs of the DAG, selected from its tasks' outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<DagOutputsSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(DagSpec {
    tasks: "tasks",
    outputs: "outputs",
});

/// Outputs of a DAG (`DagOutputsSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DagOutputsSpec {
    /// Output artifacts by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub artifacts: BTreeMap<String, DagOutputArtifactSpec>,
    /// Output parameters by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub parameters: BTreeMap<String, DagOutputParameterSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(DagOutputsSpec {
    artifacts: "artifacts",
    parameters: "parameters",
});

/// An output artifact of a DAG (`DagOutputArtifactSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DagOutputArtifactSpec {
    /// The task outputs it comes from (several for `dsl.OneOf` / collected loop outputs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifact_selectors: Vec<ArtifactSelectorSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(DagOutputArtifactSpec {
    artifact_selectors: "artifactSelectors",
});

/// Selects an output artifact of a task in the DAG (`ArtifactSelectorSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ArtifactSelectorSpec {
    /// The task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_subtask: Option<String>,
    /// Its output artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_artifact_key: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ArtifactSelectorSpec {
    producer_subtask: "producerSubtask",
    output_artifact_key: "outputArtifactKey",
});

/// An output parameter of a DAG: one of `valueFromParameter` or `valueFromOneof`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DagOutputParameterSpec {
    /// The output parameter of one task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from_parameter: Option<ParameterSelectorSpec>,
    /// The first available of several tasks' outputs (`dsl.OneOf`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from_oneof: Option<ParameterSelectorsSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(DagOutputParameterSpec {
    value_from_parameter: "valueFromParameter",
    value_from_oneof: "valueFromOneof",
});

/// Selects an output parameter of a task in the DAG (`ParameterSelectorSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParameterSelectorSpec {
    /// The task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_subtask: Option<String>,
    /// Its output parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_parameter_key: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ParameterSelectorSpec {
    producer_subtask: "producerSubtask",
    output_parameter_key: "outputParameterKey",
});

/// Several parameter selectors (`ParameterSelectorsSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParameterSelectorsSpec {
    /// The selectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameter_selectors: Vec<ParameterSelectorSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ParameterSelectorsSpec {
    parameter_selectors: "parameterSelectors",
});

/// The inputs of a component (`ComponentInputsSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ComponentInputsSpec {
    /// Input artifacts by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub artifacts: BTreeMap<String, InputArtifactDefinition>,
    /// Input parameters by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub parameters: BTreeMap<String, InputParameterDefinition>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ComponentInputsSpec {
    artifacts: "artifacts",
    parameters: "parameters",
});

/// The type of an artifact: a schema title (e.g. `system.Dataset`) or an instance schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ArtifactTypeSchema {
    /// The schema title, e.g. `system.Dataset`, `system.Model`, `google.VertexModel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_title: Option<String>,
    /// Deprecated: a URI to the schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_uri: Option<String>,
    /// The schema as a YAML string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_schema: Option<String>,
    /// The schema version, `0.0.1` for the `system.*` types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ArtifactTypeSchema {
    schema_title: "schemaTitle",
    schema_uri: "schemaUri",
    instance_schema: "instanceSchema",
    schema_version: "schemaVersion",
});

impl ArtifactTypeSchema {
    /// A type by schema title and version, e.g. `("system.Dataset", "0.0.1")`.
    pub fn new(schema_title: impl Into<String>, schema_version: impl Into<String>) -> Self {
        Self {
            schema_title: Some(schema_title.into()),
            schema_version: Some(schema_version.into()),
            ..Self::default()
        }
    }
}

/// An input artifact of a component (`ComponentInputsSpec.ArtifactSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InputArtifactDefinition {
    /// Its type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<ArtifactTypeSchema>,
    /// Whether it is a list of artifacts (`List[Dataset]`, loop fan-in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_artifact_list: Option<bool>,
    /// Whether it may be left unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_optional: Option<bool>,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(InputArtifactDefinition {
    artifact_type: "artifactType",
    is_artifact_list: "isArtifactList",
    is_optional: "isOptional",
    description: "description",
});

/// An input parameter of a component (`ComponentInputsSpec.ParameterSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InputParameterDefinition {
    /// Deprecated primitive type (old IR).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub primitive_type: Option<PrimitiveType>,
    /// Its type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_type: Option<ParameterType>,
    /// The default value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_value: Option<Value>,
    /// Whether it may be left unset (true when it has a default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_optional: Option<bool>,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The allowed values (`Literal[...]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub literals: Vec<Value>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(InputParameterDefinition {
    primitive_type: "type",
    parameter_type: "parameterType",
    default_value: "defaultValue",
    is_optional: "isOptional",
    description: "description",
    literals: "literals",
});

/// The outputs of a component (`ComponentOutputsSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ComponentOutputsSpec {
    /// Output artifacts by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub artifacts: BTreeMap<String, OutputArtifactDefinition>,
    /// Output parameters by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub parameters: BTreeMap<String, OutputParameterDefinition>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ComponentOutputsSpec {
    artifacts: "artifacts",
    parameters: "parameters",
});

/// An output artifact of a component (`ComponentOutputsSpec.ArtifactSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OutputArtifactDefinition {
    /// Its type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<ArtifactTypeSchema>,
    /// Metadata of the artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Extra>,
    /// Whether it is a list of artifacts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_artifact_list: Option<bool>,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fields not modelled here (including the deprecated `properties`), kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(OutputArtifactDefinition {
    artifact_type: "artifactType",
    metadata: "metadata",
    is_artifact_list: "isArtifactList",
    description: "description",
});

/// An output parameter of a component (`ComponentOutputsSpec.ParameterSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OutputParameterDefinition {
    /// Deprecated primitive type (old IR).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub primitive_type: Option<PrimitiveType>,
    /// Its type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_type: Option<ParameterType>,
    /// The description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(OutputParameterDefinition {
    primitive_type: "type",
    parameter_type: "parameterType",
    description: "description",
});
