//! The Suggestion custom resource (`suggestions.kubeflow.org/v1beta1`). Each Experiment owns
//! one Suggestion of the same name.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::common::*;
use crate::enums::{ResumePolicy, SuggestionConditionType};

/// The spec of a [`Suggestion`].
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "kubeflow.org",
    version = "v1beta1",
    kind = "Suggestion",
    plural = "suggestions",
    namespaced,
    status = "SuggestionStatus",
    schema = "disabled",
    category = "kubeflow",
    category = "katib"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SuggestionSpec {
    /// The search algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<AlgorithmSpec>,
    /// Early stopping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStoppingSpec>,
    /// How many assignments were requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<i32>,
    /// The experiment's resume policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_policy: Option<ResumePolicy>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A condition of a Suggestion.
pub type SuggestionCondition = Condition<SuggestionConditionType>;

/// The status of a [`Suggestion`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SuggestionStatus {
    /// Settings the suggestion service rewrote (e.g. hyperband state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_settings: Option<Vec<AlgorithmSetting>>,
    /// Assignments produced so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion_count: Option<i32>,
    /// The assignments, one per trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Vec<TrialAssignment>>,
    /// When it started.
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
    pub conditions: Option<Vec<SuggestionCondition>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One assignment produced by the suggestion service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrialAssignment {
    /// The trial's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The hyperparameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_assignments: Option<Vec<ParameterAssignment>>,
    /// Early-stopping rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping_rules: Option<Vec<EarlyStoppingRule>>,
    /// Labels for the trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Suggestion {
    /// The condition of that type with status `"True"`, if any.
    pub fn condition(&self, type_: SuggestionConditionType) -> Option<&SuggestionCondition> {
        true_condition(
            self.status.as_ref().and_then(|s| s.conditions.as_deref()),
            &type_,
        )
    }
}
