//! ServingRuntime (namespaced) and ClusterServingRuntime (`serving.kserve.io/v1alpha1`).

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{Extra, ProtocolVersion};

/// The spec of a [`ServingRuntime`] or [`ClusterServingRuntime`]: which model formats and protocols a model-server image serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, CustomResource)]
#[kube(
    group = "serving.kserve.io",
    version = "v1alpha1",
    kind = "ServingRuntime",
    plural = "servingruntimes",
    namespaced,
    status = "ServingRuntimeStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServingRuntimeSpec {
    /// Model formats served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_model_formats: Option<Vec<SupportedModelFormat>>,
    /// Protocols spoken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_versions: Option<Vec<ProtocolVersion>>,
    /// Whether one server holds several models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_model: Option<bool>,
    /// Disabled runtimes are never selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// The server containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<Container>>,
    /// Pod annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Pod labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Node selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Replicas (ModelMesh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// gRPC endpoint (ModelMesh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_endpoint: Option<String>,
    /// gRPC data endpoint (ModelMesh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_data_endpoint: Option<String>,
    /// HTTP data endpoint (ModelMesh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_data_endpoint: Option<String>,
    /// Multi-node worker spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_spec: Option<Value>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A model format a runtime serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SupportedModelFormat {
    /// Format name.
    pub name: String,
    /// Format version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether the runtime is chosen automatically for this format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_select: Option<bool>,
    /// Priority among runtimes that auto-select the format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of a runtime (KServe keeps it empty today).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServingRuntimeStatus {
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A cluster-wide [`ServingRuntime`] (`serving.kserve.io/v1alpha1`, cluster-scoped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClusterServingRuntime {
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// The spec (same as a ServingRuntime's).
    pub spec: ServingRuntimeSpec,
    /// The status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ServingRuntimeStatus>,
}

impl ClusterServingRuntime {
    /// A ClusterServingRuntime named `name`.
    pub fn new(name: &str, spec: ServingRuntimeSpec) -> Self {
        ClusterServingRuntime {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                ..Default::default()
            },
            spec,
            status: None,
        }
    }
}

impl kube::Resource for ClusterServingRuntime {
    type DynamicType = ();
    type Scope = kube::core::ClusterResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "ClusterServingRuntime".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "serving.kserve.io".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1alpha1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "clusterservingruntimes".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}
