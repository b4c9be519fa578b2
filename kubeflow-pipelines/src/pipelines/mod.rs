//! Pipelines: create, get (by id or name), list, update, delete, create with a first version,
//! upload; and their versions ([`PipelineVersionsApi`]).

mod upload;
mod versions;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kubeflow_core::Result;
use serde::{Deserialize, Serialize};

pub use upload::{MAX_PACKAGE_SIZE, PipelinePackage, UploadPipeline, UploadPipelineVersion};
pub use versions::{CreatePipelineVersion, ListPipelineVersions, PipelineVersionsApi};

use crate::client::{API, require, seg};
use crate::types::{Extra, Status};
use crate::{List, PipelineSpec, PipelinesClient};

/// A pipeline: a named group of versions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pipeline {
    /// Server-assigned id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// Name shown in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Unique name (2.14+; a Kubernetes name with the Kubernetes pipeline store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Creation time.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<DateTime<Utc>>,
    /// Namespace; unset for a shared pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// An error the server attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
    /// Tags (2.17+).
    #[serde(
        default,
        deserialize_with = "crate::serde_util::null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub tags: BTreeMap<String, String>,
    /// Fields this SDK does not know.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Where the server downloads a pipeline version's spec from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PackageUrl {
    /// The URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_url: Option<String>,
}

/// A version of a pipeline: one compiled spec.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PipelineVersion {
    /// The pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// Server-assigned id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_version_id: Option<String>,
    /// Name shown in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Unique name (2.14+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Creation time.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<DateTime<Utc>>,
    /// Where the spec was downloaded from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_url: Option<PackageUrl>,
    /// Link to the source code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_source_url: Option<String>,
    /// The compiled pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_spec: Option<PipelineSpec>,
    /// An error the server attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
    /// Tags (2.17+).
    #[serde(
        default,
        deserialize_with = "crate::serde_util::null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub tags: BTreeMap<String, String>,
    /// Fields this SDK does not know.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Pipeline operations: `kfp.pipelines()`.
#[derive(Debug, Clone)]
pub struct PipelinesApi {
    kfp: PipelinesClient,
}

impl PipelinesApi {
    pub(crate) fn new(kfp: PipelinesClient) -> Self {
        PipelinesApi { kfp }
    }

    /// Versions of a pipeline.
    pub fn versions(&self, pipeline_id: impl Into<String>) -> PipelineVersionsApi {
        PipelineVersionsApi::new(self.kfp.clone(), pipeline_id.into())
    }

    /// Uploads a compiled pipeline (multipart `POST /apis/v2beta1/pipelines/upload`): creates
    /// the pipeline and its first version. Packages over 32 MiB are refused before sending.
    ///
    /// ```no_run
    /// # async fn f(kfp: kubeflow_pipelines::PipelinesClient) -> kubeflow_pipelines::Result<()> {
    /// use kubeflow_pipelines::PipelinePackage;
    /// let pipeline = kfp.pipelines()
    ///     .upload(PipelinePackage::file("two_step.yaml"))
    ///     .display_name("two step")
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn upload(&self, package: impl Into<PipelinePackage>) -> UploadPipeline {
        UploadPipeline::new(self.kfp.clone(), package.into())
    }

    /// Uploads a new version of a pipeline (multipart `POST /apis/v2beta1/pipelines/upload_version`).
    pub fn upload_version(
        &self,
        pipeline_id: impl Into<String>,
        package: impl Into<PipelinePackage>,
    ) -> UploadPipelineVersion {
        UploadPipelineVersion::new(self.kfp.clone(), pipeline_id.into(), package.into())
    }

    /// Creates a pipeline without a version (`POST /apis/v2beta1/pipelines`).
    pub fn create(&self, display_name: impl Into<String>) -> CreatePipeline {
        CreatePipeline {
            kfp: self.kfp.clone(),
            pipeline: Pipeline {
                display_name: Some(display_name.into()),
                ..Pipeline::default()
            },
            version: None,
        }
    }

    /// Gets a pipeline by id.
    ///
    /// # Errors
    /// The server's error.
    pub async fn get(&self, pipeline_id: &str) -> Result<Pipeline> {
        require("pipeline_id", pipeline_id)?;
        self.kfp
            .get(&format!("{API}/pipelines/{}", seg(pipeline_id)))
            .send_json()
            .await
    }

    /// Gets a pipeline by its unique name (`GET /apis/v2beta1/pipelines/names/{name}`); in
    /// multi-user mode give the namespace (`None` looks among shared pipelines).
    ///
    /// # Errors
    /// The server's error (404 when there is none).
    pub async fn get_by_name(&self, name: &str, namespace: Option<&str>) -> Result<Pipeline> {
        require("name", name)?;
        #[derive(Serialize)]
        struct Q<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            namespace: Option<&'a str>,
        }
        self.kfp
            .get(&format!("{API}/pipelines/names/{}", seg(name)))
            .query(&Q { namespace })
            .send_json()
            .await
    }

    /// Lists pipelines (all namespaces the caller sees, unless [`ListPipelines::namespace`]).
    pub fn list(&self) -> ListPipelines {
        ListPipelines {
            inner: List::new(self.kfp.clone(), format!("{API}/pipelines")),
        }
    }

    /// Updates a pipeline's display name or tags (`PATCH`, servers 2.17+).
    pub fn update(&self, pipeline_id: impl Into<String>) -> UpdatePipeline {
        UpdatePipeline {
            kfp: self.kfp.clone(),
            pipeline: Pipeline {
                pipeline_id: Some(pipeline_id.into()),
                ..Pipeline::default()
            },
        }
    }

    /// Deletes a pipeline. The server refuses while it has versions, unless `cascade` (2.14+)
    /// deletes them too.
    ///
    /// # Errors
    /// The server's error.
    pub async fn delete(&self, pipeline_id: &str, cascade: bool) -> Result<()> {
        require("pipeline_id", pipeline_id)?;
        #[derive(Serialize)]
        struct Q {
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            cascade: bool,
        }
        self.kfp
            .delete(&format!("{API}/pipelines/{}", seg(pipeline_id)))
            .query(&Q { cascade })
            .send()
            .await
            .map(drop)
    }
}

/// Builder of [`PipelinesApi::create`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct CreatePipeline {
    kfp: PipelinesClient,
    pipeline: Pipeline,
    version: Option<PipelineVersion>,
}

impl CreatePipeline {
    /// Unique name (2.14+).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.pipeline.name = Some(name.into());
        self
    }

    /// Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.pipeline.description = Some(d.into());
        self
    }

    /// Namespace; unset for a shared pipeline.
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.pipeline.namespace = Some(ns.into());
        self
    }

    /// A tag (2.17+).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.pipeline.tags.insert(key.into(), value.into());
        self
    }

    /// Also creates a first version whose spec the server downloads from `package_url`
    /// (`POST /apis/v2beta1/pipelines/create`).
    pub fn with_version(
        mut self,
        display_name: impl Into<String>,
        package_url: impl Into<String>,
    ) -> Self {
        self.version = Some(PipelineVersion {
            display_name: Some(display_name.into()),
            package_url: Some(PackageUrl {
                pipeline_url: Some(package_url.into()),
            }),
            ..PipelineVersion::default()
        });
        self
    }

    /// Creates the pipeline (and version).
    ///
    /// # Errors
    /// The server's error (409 when the name is taken).
    pub async fn send(self) -> Result<Pipeline> {
        let kfp = &self.kfp;
        match self.version {
            None => {
                kfp.post(&format!("{API}/pipelines"))
                    .json(&self.pipeline)
                    .send_json()
                    .await
            }
            Some(version) => {
                #[derive(Serialize)]
                struct Body {
                    pipeline: Pipeline,
                    pipeline_version: PipelineVersion,
                }
                kfp.post(&format!("{API}/pipelines/create"))
                    .json(&Body {
                        pipeline: self.pipeline,
                        pipeline_version: version,
                    })
                    .send_json()
                    .await
            }
        }
    }
}

/// Builder of [`PipelinesApi::update`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct UpdatePipeline {
    kfp: PipelinesClient,
    pipeline: Pipeline,
}

impl UpdatePipeline {
    /// New display name.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.pipeline.display_name = Some(name.into());
        self
    }

    /// Sets a tag (the tags sent replace the pipeline's tags).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.pipeline.tags.insert(key.into(), value.into());
        self
    }

    /// Sends the update.
    ///
    /// # Errors
    /// The server's error.
    pub async fn send(self) -> Result<Pipeline> {
        let id = self.pipeline.pipeline_id.clone().unwrap_or_default();
        require("pipeline_id", &id)?;
        self.kfp
            .patch(&format!("{API}/pipelines/{}", seg(&id)))
            .json(&self.pipeline)
            .send_json()
            .await
    }
}

/// Builder of [`PipelinesApi::list`]; see [`List`] for paging.
#[derive(Debug)]
#[must_use = "a list request does nothing until sent or streamed"]
pub struct ListPipelines {
    inner: List<Pipeline>,
}

impl ListPipelines {
    /// Lists the pipelines of this namespace.
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.inner = self.inner.set_namespace(Some(ns.into()));
        self
    }
}

crate::list::deref_list!(ListPipelines, Pipeline);
