//! The TrainedModel custom resource (`serving.kserve.io/v1alpha1`): a model loaded into a
//! multi-model InferenceService.

use std::collections::BTreeMap;

use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::common::{Addressable, Condition, Extra};

/// The spec of a [`TrainedModel`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, CustomResource)]
#[kube(
    group = "serving.kserve.io",
    version = "v1alpha1",
    kind = "TrainedModel",
    plural = "trainedmodels",
    shortname = "tm",
    namespaced,
    status = "TrainedModelStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrainedModelSpec {
    /// The InferenceService that loads it.
    pub inference_service: String,
    /// The model.
    pub model: TrainedModelModel,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A trained model: where it is and what it needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrainedModelModel {
    /// Where the model is.
    pub storage_uri: String,
    /// The framework (`sklearn`…).
    pub framework: String,
    /// Memory it needs (a quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of a [`TrainedModel`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TrainedModelStatus {
    /// The URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The cluster-local address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Addressable>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}
