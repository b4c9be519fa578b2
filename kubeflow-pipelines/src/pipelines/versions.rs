//! Pipeline versions: create, get, list, update, delete.

use kubeflow_core::Result;

use super::{PackageUrl, PipelinePackage, PipelineVersion};
use crate::client::{API, require, seg};
use crate::{List, PipelineSpec, PipelinesClient};

/// Operations on the versions of one pipeline: `kfp.pipelines().versions(pipeline_id)`.
#[derive(Debug, Clone)]
pub struct PipelineVersionsApi {
    kfp: PipelinesClient,
    pipeline_id: String,
}

impl PipelineVersionsApi {
    pub(super) fn new(kfp: PipelinesClient, pipeline_id: String) -> Self {
        PipelineVersionsApi { kfp, pipeline_id }
    }

    fn base(&self) -> String {
        format!("{API}/pipelines/{}/versions", seg(&self.pipeline_id))
    }

    /// Creates a version. Give its spec with [`package_url`](CreatePipelineVersion::package_url)
    /// (the server downloads it) or [`spec`](CreatePipelineVersion::spec) (uploaded).
    pub fn create(&self, display_name: impl Into<String>) -> CreatePipelineVersion {
        CreatePipelineVersion {
            api: self.clone(),
            version: PipelineVersion {
                pipeline_id: Some(self.pipeline_id.clone()),
                display_name: Some(display_name.into()),
                ..PipelineVersion::default()
            },
            spec: None,
        }
    }

    /// Gets a version.
    ///
    /// # Errors
    /// The server's error.
    pub async fn get(&self, pipeline_version_id: &str) -> Result<PipelineVersion> {
        require("pipeline_id", &self.pipeline_id)?;
        require("pipeline_version_id", pipeline_version_id)?;
        self.kfp
            .get(&format!("{}/{}", self.base(), seg(pipeline_version_id)))
            .send_json()
            .await
    }

    /// Lists the versions.
    pub fn list(&self) -> ListPipelineVersions {
        ListPipelineVersions {
            inner: List::new(self.kfp.clone(), self.base()),
        }
    }

    /// Deletes a version.
    ///
    /// # Errors
    /// The server's error.
    pub async fn delete(&self, pipeline_version_id: &str) -> Result<()> {
        require("pipeline_id", &self.pipeline_id)?;
        require("pipeline_version_id", pipeline_version_id)?;
        self.kfp
            .delete(&format!("{}/{}", self.base(), seg(pipeline_version_id)))
            .send()
            .await
            .map(drop)
    }

    /// Changes a version's display name (`PATCH`, servers 2.17+).
    ///
    /// # Errors
    /// The server's error.
    pub async fn update_display_name(
        &self,
        pipeline_version_id: &str,
        display_name: &str,
    ) -> Result<PipelineVersion> {
        require("pipeline_id", &self.pipeline_id)?;
        require("pipeline_version_id", pipeline_version_id)?;
        let body = PipelineVersion {
            pipeline_id: Some(self.pipeline_id.clone()),
            pipeline_version_id: Some(pipeline_version_id.to_owned()),
            display_name: Some(display_name.to_owned()),
            ..PipelineVersion::default()
        };
        self.kfp
            .patch(&format!("{}/{}", self.base(), seg(pipeline_version_id)))
            .json(&body)
            .send_json()
            .await
    }
}

/// Builder of [`PipelineVersionsApi::create`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct CreatePipelineVersion {
    api: PipelineVersionsApi,
    version: PipelineVersion,
    spec: Option<PipelineSpec>,
}

impl CreatePipelineVersion {
    /// The URL the server downloads the compiled pipeline from.
    pub fn package_url(mut self, url: impl Into<String>) -> Self {
        self.version.package_url = Some(PackageUrl {
            pipeline_url: Some(url.into()),
        });
        self
    }

    /// An inline spec: sent through the upload route, because the JSON create route only
    /// takes a URL on every server version.
    pub fn spec(mut self, spec: PipelineSpec) -> Self {
        self.spec = Some(spec);
        self
    }

    /// Unique name (2.14+).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.version.name = Some(name.into());
        self
    }

    /// Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.version.description = Some(d.into());
        self
    }

    /// Link to the source code.
    pub fn code_source_url(mut self, url: impl Into<String>) -> Self {
        self.version.code_source_url = Some(url.into());
        self
    }

    /// Creates the version.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) without a URL or a spec (or
    /// with both); the server's error.
    pub async fn send(self) -> Result<PipelineVersion> {
        require("pipeline_id", &self.api.pipeline_id)?;
        match (self.spec, &self.version.package_url) {
            (Some(_), Some(_)) | (None, None) => Err(kubeflow_core::Error::invalid_argument(
                "pipeline version",
                "give exactly one of package_url or spec",
            )),
            (None, Some(_)) => {
                self.api
                    .kfp
                    .post(&self.api.base())
                    .json(&self.version)
                    .send_json()
                    .await
            }
            (Some(spec), None) => {
                let v = self.version;
                let mut up = self
                    .api
                    .kfp
                    .pipelines()
                    .upload_version(self.api.pipeline_id.clone(), PipelinePackage::spec(spec));
                if let Some(x) = v.display_name {
                    up = up.display_name(x);
                }
                if let Some(x) = v.name {
                    up = up.name(x);
                }
                if let Some(x) = v.description {
                    up = up.description(x);
                }
                if let Some(x) = v.code_source_url {
                    up = up.code_source_url(x);
                }
                up.send().await
            }
        }
    }
}

/// Builder of [`PipelineVersionsApi::list`]; see [`List`] for paging.
#[derive(Debug)]
#[must_use = "a list request does nothing until sent or streamed"]
pub struct ListPipelineVersions {
    inner: List<PipelineVersion>,
}

crate::list::deref_list!(ListPipelineVersions, PipelineVersion);
