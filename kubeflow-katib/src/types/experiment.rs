//! The Experiment custom resource (`experiments.kubeflow.org/v1beta1`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::*;
use crate::enums::{Distribution, ExperimentConditionType, ParameterType, ResumePolicy};

/// The label Katib puts on the Trials of an Experiment (value: the experiment's name).
pub const EXPERIMENT_LABEL: &str = "katib.kubeflow.org/experiment";

/// The spec of an [`Experiment`]: what to search, how, with which budget, and how each trial runs.
///
/// Build one with [`ExperimentBuilder`](crate::ExperimentBuilder); read one from the cluster with
/// [`KatibClient`](crate::KatibClient).
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "kubeflow.org",
    version = "v1beta1",
    kind = "Experiment",
    plural = "experiments",
    namespaced,
    status = "ExperimentStatus",
    schema = "disabled",
    category = "kubeflow",
    category = "katib"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExperimentSpec {
    /// The search space (or use `nas_config`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ParameterSpec>>,
    /// The objective.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<ObjectiveSpec>,
    /// The search algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<AlgorithmSpec>,
    /// Early stopping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingSpec>,
    /// How each trial runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_template: Option<TrialTemplate>,
    /// Trials running at once (the webhook defaults it to 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_trial_count: Option<i32>,
    /// Total number of trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_trial_count: Option<i32>,
    /// Failed trials after which the experiment fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failed_trial_count: Option<i32>,
    /// How metrics are collected (the webhook defaults it to `StdOut`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_collector_spec: Option<MetricsCollectorSpec>,
    /// Neural architecture search configuration (instead of `parameters`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nas_config: Option<NasConfig>,
    /// What happens to the suggestion when the experiment completes (default `Never`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_policy: Option<ResumePolicy>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One dimension of the search space.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParameterSpec {
    /// Parameter name (referenced by `trialParameters[].reference`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `double`, `int`, `discrete` or `categorical`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_type: Option<ParameterType>,
    /// Its feasible values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feasible_space: Option<FeasibleSpace>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The feasible values of a parameter. All values are strings in the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FeasibleSpace {
    /// Lower bound (double, int).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// Upper bound (double, int).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// The values (categorical, discrete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<String>>,
    /// Step between values (double, int; needed by `grid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Prior distribution (double, int; the webhook defaults it to `uniform`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// How each trial runs (`spec.trialTemplate`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrialTemplate {
    /// Keep the trial's job and pods after it completes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain: Option<bool>,
    /// The Kubernetes object each trial creates (exactly one of this and `config_map`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_spec: Option<TrialJob>,
    /// A ConfigMap holding the trial's object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapSource>,
    /// The `${trialParameters.<name>}` placeholders and the parameters they stand for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_parameters: Option<Vec<TrialParameterSpec>>,
    /// Labels of the pods whose metrics count (defaulted for training-operator jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_pod_labels: Option<BTreeMap<String, String>>,
    /// The container whose exit and metrics count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_container_name: Option<String>,
    /// GJSON condition on the job meaning success (defaulted for known kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// GJSON condition on the job meaning failure (defaulted for known kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A trial template stored in a ConfigMap.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ConfigMapSource {
    /// ConfigMap name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_name: Option<String>,
    /// ConfigMap namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_namespace: Option<String>,
    /// Key of the template in the ConfigMap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_path: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A placeholder of the trial template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrialParameterSpec {
    /// The placeholder's name: `${trialParameters.<name>}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The parameter it stands for, or trial metadata such as `${trialSpec.Name}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TrialParameterSpec {
    /// A placeholder `name` standing for `reference`.
    pub fn new(name: impl Into<String>, reference: impl Into<String>) -> Self {
        TrialParameterSpec {
            name: Some(name.into()),
            reference: Some(reference.into()),
            ..Default::default()
        }
    }

    /// With a description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// The Kubernetes object a trial runs (`trialTemplate.trialSpec`, a Trial's `runSpec`): a
/// `batch/v1` Job, a `PyTorchJob`, a `TFJob`, a `TrainJob` or any other kind.
///
/// It is kept as JSON, so every field of every kind survives; convert it to and from a typed
/// Kubernetes object with [`TrialJob::from_object`] and [`TrialJob::to_object`].
///
/// ```
/// use k8s_openapi::api::batch::v1::Job;
/// use kubeflow_katib::TrialJob;
///
/// let job = TrialJob::new(serde_json::json!({
///     "apiVersion": "batch/v1", "kind": "Job",
///     "spec": {"template": {"spec": {"containers": [], "restartPolicy": "Never"}}}
/// }));
/// assert_eq!(job.kind(), Some("Job"));
/// let typed: Job = job.to_object()?;
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrialJob(pub Value);

impl TrialJob {
    /// Wraps a JSON object.
    pub fn new(value: Value) -> Self {
        TrialJob(value)
    }

    /// From a typed object (e.g. a k8s-openapi `Job`). `apiVersion` and `kind` are added when
    /// the object's serialisation lacks them.
    ///
    /// # Errors
    /// When the object does not serialise to JSON.
    pub fn from_object<K>(object: &K) -> Result<Self, serde_json::Error>
    where
        K: Serialize + kube::Resource<DynamicType = ()>,
    {
        let mut value = serde_json::to_value(object)?;
        if let Value::Object(map) = &mut value {
            map.entry("apiVersion")
                .or_insert_with(|| Value::String(K::api_version(&()).into_owned()));
            map.entry("kind")
                .or_insert_with(|| Value::String(K::kind(&()).into_owned()));
        }
        Ok(TrialJob(value))
    }

    /// As a typed object.
    ///
    /// # Errors
    /// When the JSON does not decode as `K`.
    pub fn to_object<K: serde::de::DeserializeOwned>(&self) -> Result<K, serde_json::Error> {
        serde_json::from_value(self.0.clone())
    }

    /// `apiVersion`, if set.
    pub fn api_version(&self) -> Option<&str> {
        self.0.get("apiVersion").and_then(Value::as_str)
    }

    /// `kind`, if set.
    pub fn kind(&self) -> Option<&str> {
        self.0.get("kind").and_then(Value::as_str)
    }

    /// The JSON.
    pub fn as_value(&self) -> &Value {
        &self.0
    }
}

/// Neural architecture search configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NasConfig {
    /// The network graph.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_config: Option<GraphConfig>,
    /// Candidate operations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<Operation>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The network graph of a NAS experiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GraphConfig {
    /// Number of layers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_layers: Option<i32>,
    /// Input sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_sizes: Option<Vec<i32>>,
    /// Output sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_sizes: Option<Vec<i32>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A candidate operation of a NAS experiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Operation {
    /// Operation type (e.g. `convolution`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<String>,
    /// Its parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<ParameterSpec>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A condition of an Experiment.
pub type ExperimentCondition = Condition<ExperimentConditionType>;

/// The status of an [`Experiment`], written by the Katib controller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExperimentStatus {
    /// When the experiment started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<DateTime<Utc>>,
    /// When it completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<DateTime<Utc>>,
    /// Last reconciliation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reconcile_time: Option<DateTime<Utc>>,
    /// Conditions (test a type with status `"True"`, never just the last one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<ExperimentCondition>>,
    /// The best trial so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_optimal_trial: Option<OptimalTrial>,
    /// Running trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_trial_list: Option<Vec<String>>,
    /// Pending trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_trial_list: Option<Vec<String>>,
    /// Failed trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_trial_list: Option<Vec<String>>,
    /// Succeeded trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succeeded_trial_list: Option<Vec<String>>,
    /// Killed trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub killed_trial_list: Option<Vec<String>>,
    /// Early-stopped trials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopped_trial_list: Option<Vec<String>>,
    /// Trials that reported no metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_unavailable_trial_list: Option<Vec<String>>,
    /// Trials created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials: Option<i32>,
    /// Trials succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_succeeded: Option<i32>,
    /// Trials failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_failed: Option<i32>,
    /// Trials killed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_killed: Option<i32>,
    /// Trials pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_pending: Option<i32>,
    /// Trials running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_running: Option<i32>,
    /// Trials early-stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials_early_stopped: Option<i32>,
    /// Trials without metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_metrics_unavailable: Option<i32>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The best trial so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OptimalTrial {
    /// The trial's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_trial_name: Option<String>,
    /// Its hyperparameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_assignments: Option<Vec<ParameterAssignment>>,
    /// Its metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl OptimalTrial {
    /// The hyperparameters as a name → value map.
    pub fn parameters(&self) -> BTreeMap<String, String> {
        assignments_map(self.parameter_assignments.as_deref())
    }

    /// The metric of that name.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.observation.as_ref().and_then(|o| o.metric(name))
    }

    /// True when a trial has been chosen and it has metrics.
    pub fn has_metrics(&self) -> bool {
        self.best_trial_name
            .as_deref()
            .is_some_and(|n| !n.is_empty())
            && self
                .observation
                .as_ref()
                .and_then(|o| o.metrics.as_ref())
                .is_some_and(|m| !m.is_empty())
    }
}

pub(crate) fn assignments_map(a: Option<&[ParameterAssignment]>) -> BTreeMap<String, String> {
    a.unwrap_or_default()
        .iter()
        .filter_map(|p| Some((p.name.clone()?, p.value.clone().unwrap_or_default())))
        .collect()
}

impl Experiment {
    /// The condition of that type with status `"True"`, if any.
    pub fn condition(&self, type_: ExperimentConditionType) -> Option<&ExperimentCondition> {
        true_condition(
            self.status.as_ref().and_then(|s| s.conditions.as_deref()),
            &type_,
        )
    }

    /// True when a condition of that type has status `"True"`.
    pub fn has_condition(&self, type_: ExperimentConditionType) -> bool {
        self.condition(type_).is_some()
    }

    /// True when the experiment succeeded.
    pub fn is_succeeded(&self) -> bool {
        self.has_condition(ExperimentConditionType::Succeeded)
    }

    /// True when the experiment failed.
    pub fn is_failed(&self) -> bool {
        self.has_condition(ExperimentConditionType::Failed)
    }

    /// True when the experiment is running.
    pub fn is_running(&self) -> bool {
        self.has_condition(ExperimentConditionType::Running)
    }

    /// True when the experiment succeeded or failed.
    pub fn is_completed(&self) -> bool {
        self.is_succeeded() || self.is_failed()
    }

    /// The best trial so far, once it has metrics.
    pub fn optimal_trial(&self) -> Option<&OptimalTrial> {
        self.status
            .as_ref()
            .and_then(|s| s.current_optimal_trial.as_ref())
            .filter(|t| t.has_metrics())
    }
}
