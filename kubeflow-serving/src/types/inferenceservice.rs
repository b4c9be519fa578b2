//! The InferenceService custom resource (`serving.kserve.io/v1beta1`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, EnvVar, ResourceRequirements};
use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{
    Addressable, Condition, DeploymentMode, Extra, ProtocolVersion, find_condition,
};

/// The annotation that selects the deployment mode.
pub const DEPLOYMENT_MODE_ANNOTATION: &str = "serving.kserve.io/deploymentMode";

/// The spec of an [`InferenceService`]: a predictor, and optionally a transformer, an explainer and canaries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, CustomResource)]
#[kube(
    group = "serving.kserve.io",
    version = "v1beta1",
    kind = "InferenceService",
    plural = "inferenceservices",
    shortname = "isvc",
    namespaced,
    status = "InferenceServiceStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InferenceServiceSpec {
    /// The model server.
    pub predictor: PredictorSpec,
    /// Pre/post-processing in front of the predictor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformer: Option<TransformerSpec>,
    /// The explainer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explainer: Option<ExplainerSpec>,
    /// Canary predictors with their traffic (newer KServe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Vec<CanarySpec>>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The predictor: either `model` (model format + runtime), a framework shorthand, or custom containers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PredictorSpec {
    /// The model, served by a runtime chosen by model format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSpec>,
    /// scikit-learn shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sklearn: Option<Box<ModelSpec>>,
    /// XGBoost shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xgboost: Option<Box<ModelSpec>>,
    /// TensorFlow shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensorflow: Option<Box<ModelSpec>>,
    /// PyTorch (TorchServe) shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pytorch: Option<Box<ModelSpec>>,
    /// Triton shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triton: Option<Box<ModelSpec>>,
    /// ONNX shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onnx: Option<Box<ModelSpec>>,
    /// PMML shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pmml: Option<Box<ModelSpec>>,
    /// LightGBM shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lightgbm: Option<Box<ModelSpec>>,
    /// Paddle shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paddle: Option<Box<ModelSpec>>,
    /// Hugging Face shorthand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huggingface: Option<Box<ModelSpec>>,
    /// Several storage URIs (newer KServe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_uris: Option<Vec<Value>>,
    /// Multi-node worker spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_spec: Option<Value>,
    /// Custom containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<Container>>,
    /// Minimum replicas (0 allows scale to zero in Knative mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    /// Maximum replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i32>,
    /// Autoscaling target value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_target: Option<i32>,
    /// Autoscaling metric (`cpu`, `memory`, `concurrency`, `rps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_metric: Option<String>,
    /// Autoscaling metric type (`Utilization`, `AverageValue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_metric_type: Option<String>,
    /// Autoscaling policy (`autoScaling`, newer KServe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling: Option<Value>,
    /// Maximum concurrent requests per replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_concurrency: Option<i64>,
    /// Request timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Percentage of traffic sent to the latest revision (Knative canary rollout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_traffic_percent: Option<i64>,
    /// The service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Annotations for the component's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels for the component's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Request/response logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<Value>,
    /// Request batching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batcher: Option<Value>,
    /// Deployment strategy (Standard mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_strategy: Option<Value>,
    /// Node selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Value>>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A model: its format, the runtime and where it is stored (also the framework shorthands).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelSpec {
    /// The model format (`sklearn`, `onnx`…) that selects the runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_format: Option<ModelFormat>,
    /// An explicit ServingRuntime / ClusterServingRuntime name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The runtime image version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_version: Option<String>,
    /// The protocol the server speaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<ProtocolVersion>,
    /// Where the model is (`gs://`, `s3://`, `pvc://`, `hf://`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_uri: Option<String>,
    /// Storage spec (key, path, parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<Value>,
    /// Container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Container image override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Container arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Container command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<EnvVar>>,
    /// Resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A model format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelFormat {
    /// Format name, e.g. `sklearn`.
    pub name: String,
    /// Format version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A transformer (pre/post-processing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TransformerSpec {
    /// Custom containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<Container>>,
    /// Minimum replicas (0 allows scale to zero in Knative mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    /// Maximum replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i32>,
    /// Autoscaling target value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_target: Option<i32>,
    /// Autoscaling metric (`cpu`, `memory`, `concurrency`, `rps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_metric: Option<String>,
    /// Autoscaling metric type (`Utilization`, `AverageValue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_metric_type: Option<String>,
    /// Autoscaling policy (`autoScaling`, newer KServe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling: Option<Value>,
    /// Maximum concurrent requests per replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_concurrency: Option<i64>,
    /// Request timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Percentage of traffic sent to the latest revision (Knative canary rollout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_traffic_percent: Option<i64>,
    /// The service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Annotations for the component's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels for the component's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Request/response logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<Value>,
    /// Request batching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batcher: Option<Value>,
    /// Deployment strategy (Standard mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_strategy: Option<Value>,
    /// Node selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Value>>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An explainer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExplainerSpec {
    /// The ART explainer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub art: Option<Value>,
    /// Custom containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<Container>>,
    /// Minimum replicas (0 allows scale to zero in Knative mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    /// Maximum replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i32>,
    /// Autoscaling target value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_target: Option<i32>,
    /// Autoscaling metric (`cpu`, `memory`, `concurrency`, `rps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_metric: Option<String>,
    /// Autoscaling metric type (`Utilization`, `AverageValue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_metric_type: Option<String>,
    /// Autoscaling policy (`autoScaling`, newer KServe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling: Option<Value>,
    /// Maximum concurrent requests per replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_concurrency: Option<i64>,
    /// Request timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Percentage of traffic sent to the latest revision (Knative canary rollout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_traffic_percent: Option<i64>,
    /// The service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Annotations for the component's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels for the component's pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Request/response logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<Value>,
    /// Request batching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batcher: Option<Value>,
    /// Deployment strategy (Standard mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_strategy: Option<Value>,
    /// Node selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Value>>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A canary predictor with its share of traffic (`spec.canary`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CanarySpec {
    /// The canary predictor.
    pub predictor: PredictorSpec,
    /// Traffic percentage.
    pub traffic_percent: i64,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of an [`InferenceService`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InferenceServiceStatus {
    /// The external URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The cluster-local address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Addressable>,
    /// Conditions (`Ready`, `PredictorReady`, `IngressReady`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The generation the controller has seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Per component (`predictor`, `transformer`, `explainer`): URLs, traffic, revisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<BTreeMap<String, ComponentStatus>>,
    /// The model's state and failure info.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_status: Option<ModelStatus>,
    /// The deployment mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_mode: Option<DeploymentMode>,
    /// Status of each `spec.canary` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_statuses: Option<Vec<CanaryStatus>>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// The ServingRuntime chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving_runtime_name: Option<String>,
    /// The ClusterServingRuntime chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_serving_runtime_name: Option<String>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of one component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ComponentStatus {
    /// External URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// REST URL.
    #[serde(rename = "restUrl")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_url: Option<String>,
    /// gRPC URL.
    #[serde(rename = "grpcUrl")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_url: Option<String>,
    /// Cluster-local address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Addressable>,
    /// Traffic split between revisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<Vec<TrafficTarget>>,
    /// Latest ready revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_ready_revision: Option<String>,
    /// Latest created revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_created_revision: Option<String>,
    /// Latest revision that took the traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_rolledout_revision: Option<String>,
    /// The revision before it (what a rollback returns to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_rolledout_revision: Option<String>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A revision's share of traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrafficTarget {
    /// Revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_name: Option<String>,
    /// Configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_name: Option<String>,
    /// Whether this follows the latest revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_revision: Option<bool>,
    /// Traffic percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<i64>,
    /// Tag (e.g. `prev`, `latest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// URL of the tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The model's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelStatus {
    /// `UpToDate`, `InProgress`, `BlockedByFailedLoad`, `InvalidSpec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition_status: Option<String>,
    /// Active and target model state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<ModelStates>,
    /// Why the model last failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_info: Option<FailureInfo>,
    /// Copies of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies: Option<ModelCopies>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Model states (`Pending`, `Standby`, `Loading`, `Loaded`, `FailedToLoad`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelStates {
    /// The state of the serving model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_model_state: Option<String>,
    /// The state being moved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_model_state: Option<String>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Why a model failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FailureInfo {
    /// Where (pod name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `ModelLoadFailed`, `RuntimeUnhealthy`, `NoSupportingRuntime`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_revision_name: Option<String>,
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Container exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Copies of a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModelCopies {
    /// Failed copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_copies: Option<i64>,
    /// Total copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_copies: Option<i64>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of one `spec.canary` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CanaryStatus {
    /// Canary name.
    pub name: String,
    /// Whether it is ready.
    pub ready: bool,
    /// Its traffic.
    pub traffic_percent: i64,
    /// Its model status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_status: Option<ModelStatus>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InferenceService {
    /// A minimal InferenceService serving `storage_uri` with the runtime chosen for `model_format`.
    ///
    /// ```
    /// use kubeflow_serving::InferenceService;
    /// let isvc = InferenceService::with_model("sklearn-iris", "sklearn",
    ///     "gs://kfserving-examples/models/sklearn/1.0/model");
    /// assert_eq!(isvc.spec.predictor.model.as_ref().unwrap().model_format.as_ref().unwrap().name, "sklearn");
    /// ```
    pub fn with_model(name: &str, model_format: &str, storage_uri: &str) -> Self {
        let spec = InferenceServiceSpec {
            predictor: PredictorSpec {
                model: Some(ModelSpec {
                    model_format: Some(ModelFormat {
                        name: model_format.to_owned(),
                        ..Default::default()
                    }),
                    storage_uri: Some(storage_uri.to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        InferenceService::new(name, spec)
    }

    /// The `Ready` condition, if any.
    pub fn ready_condition(&self) -> Option<&Condition> {
        self.condition("Ready")
    }

    /// A condition by type.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        let conditions = self.status.as_ref()?.conditions.as_deref()?;
        find_condition(conditions, type_)
    }

    /// Ready: the `Ready` condition is `True` and the controller has seen the latest spec
    /// (`status.observedGeneration >= metadata.generation`).
    pub fn is_ready(&self) -> bool {
        self.ready_condition().is_some_and(Condition::is_true) && self.generation_observed()
    }

    /// Whether the controller has seen the latest spec (true when the server sets no generation).
    pub fn generation_observed(&self) -> bool {
        match (
            self.metadata.generation,
            self.status.as_ref().and_then(|s| s.observed_generation),
        ) {
            (Some(g), Some(o)) => o >= g,
            (Some(_), None) => false,
            (None, _) => true,
        }
    }

    /// A message saying why the service is failing, when the status says so: the model's
    /// `lastFailureInfo`, or a `False` condition with a message.
    pub fn failure(&self) -> Option<String> {
        let status = self.status.as_ref()?;
        if let Some(f) = status
            .model_status
            .as_ref()
            .and_then(|m| m.last_failure_info.as_ref())
        {
            let mut msg = f.reason.clone().unwrap_or_else(|| "model failure".into());
            if let Some(m) = &f.message {
                msg.push_str(": ");
                msg.push_str(m);
            }
            if let Some(l) = &f.location {
                msg.push_str(&format!(" (at {l})"));
            }
            return Some(msg);
        }
        if status
            .model_status
            .as_ref()
            .and_then(|m| m.transition_status.as_deref())
            == Some("InvalidSpec")
        {
            return Some("the model spec is invalid (transitionStatus InvalidSpec)".into());
        }
        None
    }

    /// The deployment mode: `status.deploymentMode`, else the annotation.
    pub fn deployment_mode(&self) -> Option<DeploymentMode> {
        if let Some(m) = self.status.as_ref().and_then(|s| s.deployment_mode.clone()) {
            return Some(m);
        }
        self.metadata
            .annotations
            .as_ref()?
            .get(DEPLOYMENT_MODE_ANNOTATION)
            .map(|s| DeploymentMode::from(s.as_str()))
    }

    /// `status.url`.
    pub fn url(&self) -> Option<&str> {
        self.status.as_ref()?.url.as_deref()
    }

    /// `status.address.url` (cluster-local).
    pub fn cluster_url(&self) -> Option<&str> {
        self.status.as_ref()?.address.as_ref()?.url.as_deref()
    }

    /// The traffic split of the predictor.
    pub fn predictor_traffic(&self) -> Option<&[TrafficTarget]> {
        self.status
            .as_ref()?
            .components
            .as_ref()?
            .get("predictor")?
            .traffic
            .as_deref()
    }
}
