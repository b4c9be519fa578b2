//! Read support for the legacy KFServing API group `serving.kubeflow.org` (KFServing ≤ 0.6,
//! renamed to `serving.kserve.io` by KServe 0.7). Use it to find and migrate old objects:
//! [`InferenceService::to_current`] gives the `serving.kserve.io` form.

use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::inferenceservice::{self as current, InferenceServiceStatus};

/// The spec of a legacy [`InferenceService`] (`serving.kubeflow.org/v1beta1`); its shape is the
/// one of the current API for the fields KFServing had.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "serving.kubeflow.org",
    version = "v1beta1",
    kind = "InferenceService",
    plural = "inferenceservices",
    namespaced,
    status = "InferenceServiceStatus",
    schema = "disabled"
)]
#[non_exhaustive]
pub struct InferenceServiceSpec {
    /// The spec, in the current API's types.
    #[serde(flatten)]
    pub spec: current::InferenceServiceSpec,
}

impl InferenceService {
    /// The same object in the current group (`serving.kserve.io/v1beta1`), without the
    /// server-owned metadata (uid, resourceVersion, generation, managedFields), ready to create.
    pub fn to_current(&self) -> current::InferenceService {
        let mut metadata = self.metadata.clone();
        metadata.uid = None;
        metadata.resource_version = None;
        metadata.generation = None;
        metadata.managed_fields = None;
        metadata.creation_timestamp = None;
        metadata.self_link = None;
        current::InferenceService {
            metadata,
            spec: self.spec.spec.clone(),
            status: None,
        }
    }
}
