//! The `PodDefault` custom resource (`poddefaults.kubeflow.org/v1alpha1`): configuration
//! (environment, volumes, tolerations, …) that Kubeflow's admission webhook adds to the pods of
//! a namespace whose labels match its selector. Notebooks select PodDefaults through their
//! labels, see [`NotebookBuilder::pod_default`](crate::NotebookBuilder::pod_default).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, EnvFromSource, EnvVar, LocalObjectReference, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `spec` of a [`PodDefault`]. Every field except `selector` is optional; fields this SDK
/// does not model are kept in `extra`.
///
/// ```
/// use kubeflow_notebooks::{PodDefault, PodDefaultSpec};
/// use k8s_openapi::api::core::v1::EnvVar;
///
/// let mut spec = PodDefaultSpec::for_label("add-proxy", "Add the corporate proxy");
/// spec.env.push(EnvVar { name: "HTTPS_PROXY".into(), value: Some("http://proxy:3128".into()), ..Default::default() });
/// let pd = PodDefault::new("add-proxy", spec);
/// assert_eq!(pd.label(), Some("add-proxy"));
/// ```
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "kubeflow.org",
    version = "v1alpha1",
    kind = "PodDefault",
    namespaced,
    schema = "disabled",
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PodDefaultSpec {
    /// Which pods it applies to (required). The Jupyter web app shows PodDefaults whose
    /// selector has one `matchLabels` key, and sets that label to `"true"` on the notebook.
    pub selector: LabelSelector,
    /// A description shown in the Jupyter web app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// Environment variables added to every container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Environment sources added to every container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    /// Volumes added to the pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Volume mounts added to every container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Tolerations added to the pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Annotations added to the pod.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Labels added to the pod.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The pod's service account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Whether the service account token is mounted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
    /// Image pull secrets added to the pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// Init containers added to the pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<Container>,
    /// Sidecar containers added to the pod.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<Container>,
    /// Replaces the command of the containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Replaces the arguments of the containers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Fields not modelled here, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl PodDefaultSpec {
    /// A spec selecting pods labelled `label: "true"`, the convention the Jupyter web app
    /// uses, with a description.
    pub fn for_label(label: impl Into<String>, desc: impl Into<String>) -> Self {
        PodDefaultSpec {
            selector: LabelSelector {
                match_labels: Some(BTreeMap::from([(label.into(), "true".to_owned())])),
                match_expressions: None,
            },
            desc: Some(desc.into()),
            ..PodDefaultSpec::default()
        }
    }
}

impl PodDefault {
    /// The label a notebook sets (to `"true"`) to select this PodDefault: the first key of
    /// `selector.matchLabels`, as the Jupyter web app shows it.
    pub fn label(&self) -> Option<&str> {
        self.spec
            .selector
            .match_labels
            .as_ref()
            .and_then(|m| m.keys().next())
            .map(String::as_str)
    }

    /// The description, if any.
    pub fn desc(&self) -> Option<&str> {
        self.spec.desc.as_deref()
    }
}
