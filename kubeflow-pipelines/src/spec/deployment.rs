//! `deploymentSpec`: the executors of the components (container, importer, resolver).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Extra;
use super::de::deserialize_with_other;
use super::pipeline::ArtifactTypeSchema;
use super::task::ValueOrRuntimeParameter;

/// The `deploymentSpec` of a pipeline (`PipelineDeploymentConfig`, a `Struct` in the proto).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeploymentSpec {
    /// Executors by label (`exec-…`).
    #[serde(default)]
    pub executors: BTreeMap<String, ExecutorSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(DeploymentSpec {
    executors: "executors",
});

/// An executor: one of container, importer, resolver or the deprecated custom job.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExecutorSpec {
    /// Runs a container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<PipelineContainerSpec>,
    /// Imports an existing artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importer: Option<ImporterSpec>,
    /// Resolves artifacts from metadata queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolver: Option<ResolverSpec>,
    /// Fields not modelled here (including the deprecated `customJob`), kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ExecutorSpec {
    container: "container",
    importer: "importer",
    resolver: "resolver",
});

/// A container executor (`PipelineContainerSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PipelineContainerSpec {
    /// The image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The command, with placeholders such as `{{$.inputs.parameters['x']}}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// The arguments, with placeholders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Lifecycle hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// CPU, memory and accelerator requests and limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceSpec>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PipelineContainerSpec {
    image: "image",
    command: "command",
    args: "args",
    lifecycle: "lifecycle",
    resources: "resources",
    env: "env",
});

/// Lifecycle hooks of a container executor.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Lifecycle {
    /// Runs before the cache is checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_cache_check: Option<LifecycleExec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(Lifecycle {
    pre_cache_check: "preCacheCheck",
});

/// A command of a lifecycle hook.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LifecycleExec {
    /// The command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// The arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(LifecycleExec {
    command: "command",
    args: "args",
});

/// Resources of a container executor (`ResourceSpec`). Quantities are Kubernetes quantity
/// strings, possibly placeholders of pipeline parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResourceSpec {
    /// CPU limit, e.g. `"2"` or `500m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_cpu_limit: Option<String>,
    /// Memory limit, e.g. `4G`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_memory_limit: Option<String>,
    /// CPU request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_cpu_request: Option<String>,
    /// Memory request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_memory_request: Option<String>,
    /// Accelerator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<AcceleratorConfig>,
    /// Fields not modelled here (the deprecated numeric `cpuLimit`, `memoryLimit`, …), kept
    /// as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ResourceSpec {
    resource_cpu_limit: "resourceCpuLimit",
    resource_memory_limit: "resourceMemoryLimit",
    resource_cpu_request: "resourceCpuRequest",
    resource_memory_request: "resourceMemoryRequest",
    accelerator: "accelerator",
});

/// An accelerator request (`AcceleratorConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AcceleratorConfig {
    /// The resource type, e.g. `nvidia.com/gpu`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The count, as a string (may be a placeholder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_count: Option<String>,
    /// Fields not modelled here (the deprecated `type` and `count`), kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(AcceleratorConfig {
    resource_type: "resourceType",
    resource_count: "resourceCount",
});

/// An environment variable of a container executor.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnvVar {
    /// The name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(EnvVar {
    name: "name",
    value: "value",
});

impl EnvVar {
    /// A variable with a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            value: Some(value.into()),
            other: Extra::new(),
        }
    }
}

/// An importer executor (`ImporterSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ImporterSpec {
    /// The URI of the artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_uri: Option<ValueOrRuntimeParameter>,
    /// Its type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_schema: Option<ArtifactTypeSchema>,
    /// Whether to import again when the artifact is already known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reimport: Option<bool>,
    /// Metadata of the artifact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Extra>,
    /// Whether to download the artifact into the pipeline workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_to_workspace: Option<bool>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ImporterSpec {
    artifact_uri: "artifactUri",
    type_schema: "typeSchema",
    reimport: "reimport",
    metadata: "metadata",
    download_to_workspace: "downloadToWorkspace",
});

/// A resolver executor (`ResolverSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResolverSpec {
    /// Queries by output artifact.
    #[serde(default)]
    pub output_artifact_queries: BTreeMap<String, ArtifactQuerySpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ResolverSpec {
    output_artifact_queries: "outputArtifactQueries",
});

/// A metadata query of a resolver.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ArtifactQuerySpec {
    /// The filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The most artifacts to return.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ArtifactQuerySpec {
    filter: "filter",
    limit: "limit",
});
