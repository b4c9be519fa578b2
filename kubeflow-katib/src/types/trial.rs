//! The Trial custom resource (`trials.kubeflow.org/v1beta1`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::common::*;
use super::experiment::{TrialJob, assignments_map};
use crate::enums::TrialConditionType;

/// The spec of a [`Trial`]: one set of hyperparameters and the job that evaluates it.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "kubeflow.org",
    version = "v1beta1",
    kind = "Trial",
    plural = "trials",
    namespaced,
    status = "TrialStatus",
    schema = "disabled",
    category = "kubeflow",
    category = "katib"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrialSpec {
    /// A copy of the experiment's objective.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<ObjectiveSpec>,
    /// The hyperparameters of this trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_assignments: Option<Vec<ParameterAssignment>>,
    /// Early-stopping rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping_rules: Option<Vec<EarlyStoppingRule>>,
    /// The rendered job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_spec: Option<TrialJob>,
    /// Keep the job after completion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_run: Option<bool>,
    /// How metrics are collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_collector: Option<MetricsCollectorSpec>,
    /// Labels of the pods whose metrics count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_pod_labels: Option<BTreeMap<String, String>>,
    /// The container whose exit and metrics count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_container_name: Option<String>,
    /// GJSON success condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<String>,
    /// GJSON failure condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<String>,
    /// Labels given by the suggestion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A condition of a Trial.
pub type TrialCondition = Condition<TrialConditionType>;

/// The status of a [`Trial`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrialStatus {
    /// When the trial started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<DateTime<Utc>>,
    /// When it completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<DateTime<Utc>>,
    /// Last reconciliation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reconcile_time: Option<DateTime<Utc>>,
    /// Conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<TrialCondition>>,
    /// The metrics observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observation: Option<Observation>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Trial {
    /// The condition of that type with status `"True"`, if any.
    pub fn condition(&self, type_: TrialConditionType) -> Option<&TrialCondition> {
        true_condition(
            self.status.as_ref().and_then(|s| s.conditions.as_deref()),
            &type_,
        )
    }

    /// The trial's state: the most significant condition that is `"True"` (a terminal one —
    /// Succeeded, Failed, Killed, EarlyStopped, MetricsUnavailable — before Running, before
    /// Created).
    pub fn state(&self) -> Option<TrialConditionType> {
        use TrialConditionType as T;
        [
            T::Succeeded,
            T::Failed,
            T::Killed,
            T::EarlyStopped,
            T::MetricsUnavailable,
            T::Running,
            T::Created,
        ]
        .into_iter()
        .find(|t| self.condition(t.clone()).is_some())
    }

    /// The hyperparameters as a name → value map.
    pub fn parameters(&self) -> BTreeMap<String, String> {
        assignments_map(self.spec.parameter_assignments.as_deref())
    }

    /// The observed metrics (empty when none yet).
    pub fn metrics(&self) -> &[Metric] {
        self.status
            .as_ref()
            .and_then(|s| s.observation.as_ref())
            .and_then(|o| o.metrics.as_deref())
            .unwrap_or_default()
    }
}
