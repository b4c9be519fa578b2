//! The `Profile` custom resource (`profiles.kubeflow.org/v1`, cluster scoped): a user's
//! namespace in Kubeflow. The profile controller creates a namespace named like the profile,
//! owned by `spec.owner`, with the service accounts, role bindings and resource quota.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceQuotaSpec;
use k8s_openapi::api::rbac::v1::Subject;
use kube::CustomResource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `spec` of a [`Profile`].
///
/// ```
/// use kubeflow_notebooks::{Profile, ProfileSpec};
/// let profile = Profile::new("team-a", ProfileSpec::for_user("alice@example.com"));
/// assert_eq!(profile.owner_name(), Some("alice@example.com"));
/// ```
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "kubeflow.org",
    version = "v1",
    kind = "Profile",
    status = "ProfileStatus",
    schema = "disabled",
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProfileSpec {
    /// The owner: usually `{kind: User, name: <email>, apiGroup: rbac.authorization.k8s.io}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Subject>,
    /// Plugins (`WorkloadIdentity`, `AwsIamForServiceAccount`), free-form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<ProfilePlugin>,
    /// A resource quota for the namespace (`kf-resource-quota` when `hard` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_quota_spec: Option<ResourceQuotaSpec>,
    /// Fields not modelled here, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl ProfileSpec {
    /// A profile owned by the user `email` (a `User` subject of `rbac.authorization.k8s.io`).
    pub fn for_user(email: impl Into<String>) -> Self {
        ProfileSpec {
            owner: Some(Subject {
                kind: "User".to_owned(),
                name: email.into(),
                api_group: Some("rbac.authorization.k8s.io".to_owned()),
                namespace: None,
            }),
            ..ProfileSpec::default()
        }
    }

    /// Sets hard resource limits for the namespace (`{"cpu": "8", "memory": "32Gi",
    /// "requests.nvidia.com/gpu": "2"}`).
    #[must_use]
    pub fn with_quota<K, V>(mut self, hard: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let hard = hard
            .into_iter()
            .map(|(k, v)| {
                (
                    k.into(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity(v.into()),
                )
            })
            .collect();
        self.resource_quota_spec = Some(ResourceQuotaSpec {
            hard: Some(hard),
            ..ResourceQuotaSpec::default()
        });
        self
    }
}

/// A profile plugin (`spec.plugins[]`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProfilePlugin {
    /// API version of the plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `WorkloadIdentity` or `AwsIamForServiceAccount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The plugin's settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Value>,
}

/// `status` of a [`Profile`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ProfileStatus {
    /// Conditions written by the profile controller.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ProfileCondition>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A condition of a [`ProfileStatus`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ProfileCondition {
    /// The condition type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Profile {
    /// The owner's name (the user's email), if set.
    pub fn owner_name(&self) -> Option<&str> {
        self.spec.owner.as_ref().map(|o| o.name.as_str())
    }
}
