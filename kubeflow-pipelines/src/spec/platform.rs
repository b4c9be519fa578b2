//! `PlatformSpec`: the second document of a pipeline package, with the kfp-kubernetes
//! executor configuration (secrets, config maps, PVCs, node selectors, tolerations, …).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::Extra;
use super::de::deserialize_with_other;
use super::task::{InputParameterSpec, TaskOutputParameterSpec};

/// Platform-specific configuration of a pipeline (`PlatformSpec`), keyed by platform
/// (`kubernetes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PlatformSpec {
    /// Configuration by platform name.
    #[serde(default)]
    pub platforms: BTreeMap<String, SinglePlatformSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PlatformSpec {
    platforms: "platforms",
});

impl PlatformSpec {
    /// The `kubernetes` platform, if any.
    pub fn kubernetes(&self) -> Option<&SinglePlatformSpec> {
        self.platforms.get("kubernetes")
    }

    /// The `kubernetes` platform, created when missing.
    pub fn kubernetes_mut(&mut self) -> &mut SinglePlatformSpec {
        self.platforms.entry("kubernetes".to_owned()).or_default()
    }

    /// Whether no platform is configured (the package then has one document).
    pub fn is_empty(&self) -> bool {
        self.platforms.is_empty() && self.other.is_empty()
    }
}

/// Configuration for one platform (`SinglePlatformSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SinglePlatformSpec {
    /// Executor configuration by executor label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_spec: Option<PlatformDeploymentConfig>,
    /// The platform name (in `singlePlatformSpecs` of a component).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Free-form configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Extra>,
    /// Pipeline-level configuration (workspace, TTLs, deadline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_config: Option<PipelineConfig>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(SinglePlatformSpec {
    deployment_spec: "deploymentSpec",
    platform: "platform",
    config: "config",
    pipeline_config: "pipelineConfig",
});

/// Executor configuration by executor label (`PlatformDeploymentConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PlatformDeploymentConfig {
    /// Configuration by executor label (`exec-…`).
    #[serde(default)]
    pub executors: BTreeMap<String, KubernetesExecutorConfig>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PlatformDeploymentConfig {
    executors: "executors",
});

/// Pipeline-level configuration (`PipelineConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PipelineConfig {
    /// Seconds to keep resources after completion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_ttl_on_completion: Option<i32>,
    /// The shared workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceConfig>,
    /// Seconds to keep resources after success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_ttl_on_success: Option<i32>,
    /// Seconds to keep resources after failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_ttl_on_failure: Option<i32>,
    /// Deadline of the whole run, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<i32>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PipelineConfig {
    resource_ttl_on_completion: "resourceTtlOnCompletion",
    workspace: "workspace",
    resource_ttl_on_success: "resourceTtlOnSuccess",
    resource_ttl_on_failure: "resourceTtlOnFailure",
    active_deadline_seconds: "activeDeadlineSeconds",
});

/// The pipeline workspace (`WorkspaceConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WorkspaceConfig {
    /// Its size, e.g. `10Gi`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Kubernetes options (`pvcSpecPatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<Extra>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(WorkspaceConfig {
    size: "size",
    kubernetes: "kubernetes",
});

/// The kfp-kubernetes configuration of one executor (`KubernetesExecutorConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct KubernetesExecutorConfig {
    /// Secrets mounted as volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_as_volume: Vec<SecretAsVolume>,
    /// Secrets as environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_as_env: Vec<SecretAsEnv>,
    /// PVCs mounted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pvc_mount: Vec<PvcMount>,
    /// Node selector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<NodeSelector>,
    /// Pod labels and annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_metadata: Option<PodMetadata>,
    /// Image pull secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secret: Vec<ImagePullSecret>,
    /// Image pull policy (`Always`, `IfNotPresent`, `Never`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    /// Config maps mounted as volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_map_as_volume: Vec<ConfigMapAsVolume>,
    /// Config maps as environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_map_as_env: Vec<ConfigMapAsEnv>,
    /// Timeout of the pod in seconds (an int64: a string or a number in JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<Value>,
    /// Pod fields as environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub field_path_as_env: Vec<FieldPathAsEnv>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Generic ephemeral volumes (kept as JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generic_ephemeral_volume: Vec<Extra>,
    /// Node affinity terms (kept as JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_affinity: Vec<Extra>,
    /// Pod affinity terms (kept as JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_affinity: Vec<Extra>,
    /// Empty-dir mounts (kept as JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub empty_dir_mounts: Vec<Extra>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(KubernetesExecutorConfig {
    secret_as_volume: "secretAsVolume",
    secret_as_env: "secretAsEnv",
    pvc_mount: "pvcMount",
    node_selector: "nodeSelector",
    pod_metadata: "podMetadata",
    image_pull_secret: "imagePullSecret",
    image_pull_policy: "imagePullPolicy",
    config_map_as_volume: "configMapAsVolume",
    config_map_as_env: "configMapAsEnv",
    active_deadline_seconds: "activeDeadlineSeconds",
    field_path_as_env: "fieldPathAsEnv",
    tolerations: "tolerations",
    generic_ephemeral_volume: "genericEphemeralVolume",
    node_affinity: "nodeAffinity",
    pod_affinity: "podAffinity",
    empty_dir_mounts: "emptyDirMounts",
});

/// A secret mounted as a volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SecretAsVolume {
    /// The secret name (deprecated in favour of `secretNameParameter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Where to mount it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
    /// Whether the secret may be missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// The secret name from a constant, a pipeline parameter or a task output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name_parameter: Option<InputParameterSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(SecretAsVolume {
    secret_name: "secretName",
    mount_path: "mountPath",
    optional: "optional",
    secret_name_parameter: "secretNameParameter",
});

/// A secret as environment variables.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SecretAsEnv {
    /// The secret name (deprecated in favour of `secretNameParameter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Secret keys and the variables they fill.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_to_env: Vec<SecretKeyToEnv>,
    /// Whether the secret may be missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// The secret name from a constant, a pipeline parameter or a task output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name_parameter: Option<InputParameterSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(SecretAsEnv {
    secret_name: "secretName",
    key_to_env: "keyToEnv",
    optional: "optional",
    secret_name_parameter: "secretNameParameter",
});

/// A secret key and the environment variable it fills.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SecretKeyToEnv {
    /// The key in the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// The variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_var: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(SecretKeyToEnv {
    secret_key: "secretKey",
    env_var: "envVar",
});

/// A PVC mounted into the executor's pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PvcMount {
    /// Deprecated: the PVC name from a task output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_output_parameter: Option<TaskOutputParameterSpec>,
    /// Deprecated: a constant PVC name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constant: Option<String>,
    /// Deprecated: the PVC name from a pipeline parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_input_parameter: Option<String>,
    /// Where to mount it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
    /// The PVC name from a constant, a pipeline parameter or a task output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pvc_name_parameter: Option<InputParameterSpec>,
    /// The sub-path of the volume to mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PvcMount {
    task_output_parameter: "taskOutputParameter",
    constant: "constant",
    component_input_parameter: "componentInputParameter",
    mount_path: "mountPath",
    pvc_name_parameter: "pvcNameParameter",
    sub_path: "subPath",
});

/// A node selector.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NodeSelector {
    /// Labels the node must have.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The labels from a parameter (a JSON object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector_json: Option<InputParameterSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(NodeSelector {
    labels: "labels",
    node_selector_json: "nodeSelectorJson",
});

/// Pod labels and annotations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PodMetadata {
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(PodMetadata {
    labels: "labels",
    annotations: "annotations",
});

/// An image pull secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ImagePullSecret {
    /// The secret name (deprecated in favour of `secretNameParameter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// The secret name from a constant, a pipeline parameter or a task output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name_parameter: Option<InputParameterSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ImagePullSecret {
    secret_name: "secretName",
    secret_name_parameter: "secretNameParameter",
});

/// A config map mounted as a volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfigMapAsVolume {
    /// The config map name (deprecated in favour of `configMapNameParameter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_name: Option<String>,
    /// Where to mount it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount_path: Option<String>,
    /// Whether the config map may be missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// The name from a constant, a pipeline parameter or a task output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_name_parameter: Option<InputParameterSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ConfigMapAsVolume {
    config_map_name: "configMapName",
    mount_path: "mountPath",
    optional: "optional",
    config_map_name_parameter: "configMapNameParameter",
});

/// A config map as environment variables.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfigMapAsEnv {
    /// The config map name (deprecated in favour of `configMapNameParameter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_name: Option<String>,
    /// Keys and the variables they fill.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_to_env: Vec<ConfigMapKeyToEnv>,
    /// Whether the config map may be missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// The name from a constant, a pipeline parameter or a task output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_name_parameter: Option<InputParameterSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ConfigMapAsEnv {
    config_map_name: "configMapName",
    key_to_env: "keyToEnv",
    optional: "optional",
    config_map_name_parameter: "configMapNameParameter",
});

/// A config map key and the environment variable it fills.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfigMapKeyToEnv {
    /// The key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_key: Option<String>,
    /// The variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_var: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(ConfigMapKeyToEnv {
    config_map_key: "configMapKey",
    env_var: "envVar",
});

/// A pod field (downward API) as an environment variable.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FieldPathAsEnv {
    /// The variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The field path, e.g. `metadata.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(FieldPathAsEnv {
    name: "name",
    field_path: "fieldPath",
});

/// A toleration.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Toleration {
    /// The taint key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `Exists` or `Equal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// The taint value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The taint effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    /// Seconds the pod stays bound after the taint (an int64: a string or a number in JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<Value>,
    /// The toleration from a parameter (a JSON object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toleration_json: Option<InputParameterSpec>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub other: Extra,
}

deserialize_with_other!(Toleration {
    key: "key",
    operator: "operator",
    value: "value",
    effect: "effect",
    toleration_seconds: "tolerationSeconds",
    toleration_json: "tolerationJson",
});
