//! The InferenceGraph custom resource (`serving.kserve.io/v1alpha1`): routing between
//! InferenceServices (sequence, switch, ensemble, splitter).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::common::{Condition, DeploymentMode, Extra, find_condition, string_enum};

string_enum!(
    /// How a graph node routes.
    RouterType {
        /// Steps one after the other.
        Sequence = "Sequence",
        /// The first step whose condition matches.
        Switch = "Switch",
        /// All steps, results merged.
        Ensemble = "Ensemble",
        /// One step chosen by weight.
        Splitter = "Splitter",
    }
);

/// The spec of an [`InferenceGraph`]: nodes (the root is `root`) of routing steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, CustomResource)]
#[kube(
    group = "serving.kserve.io",
    version = "v1alpha1",
    kind = "InferenceGraph",
    plural = "inferencegraphs",
    shortname = "ig",
    namespaced,
    status = "InferenceGraphStatus",
    schema = "disabled"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InferenceGraphSpec {
    /// The nodes by name; `root` is the entry.
    pub nodes: BTreeMap<String, InferenceRouter>,
    /// Router resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Minimum router replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    /// Maximum router replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i32>,
    /// Request timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// The router's service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A node of a graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InferenceRouter {
    /// How the node routes.
    pub router_type: RouterType,
    /// The steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<InferenceStep>>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A step: an InferenceService, a URL or another node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InferenceStep {
    /// Step name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The InferenceService called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// A URL called instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    /// Another node called instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// What the step gets: `$request` or `$response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Weight (Splitter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// GJSON condition (Switch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// `Soft` or `Hard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency: Option<String>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The status of an [`InferenceGraph`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InferenceGraphStatus {
    /// The URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Deployment mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_mode: Option<DeploymentMode>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Fields not modelled here, kept for lossless read-modify-write.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Default for InferenceRouter {
    fn default() -> Self {
        InferenceRouter {
            router_type: RouterType::Sequence,
            steps: None,
            extra: Extra::new(),
        }
    }
}

impl InferenceGraph {
    /// Ready: the `Ready` condition is `True` and the controller has seen the latest spec.
    pub fn is_ready(&self) -> bool {
        let Some(status) = &self.status else {
            return false;
        };
        let ready = status
            .conditions
            .as_deref()
            .and_then(|c| find_condition(c, "Ready"))
            .is_some_and(Condition::is_true);
        let observed = match (self.metadata.generation, status.observed_generation) {
            (Some(g), Some(o)) => o >= g,
            (Some(_), None) => false,
            (None, _) => true,
        };
        ready && observed
    }

    /// `status.url`.
    pub fn url(&self) -> Option<&str> {
        self.status.as_ref()?.url.as_deref()
    }
}
