//! Multipart uploads of compiled pipelines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use kubeflow_core::http::{Multipart, Part};
use kubeflow_core::{Error, Result};
use serde::Serialize;

use super::{Pipeline, PipelineVersion};
use crate::client::{API, require};
use crate::{PipelineSpec, PipelinesClient};

/// The server's limit for an uploaded package: 32 MiB.
pub const MAX_PACKAGE_SIZE: u64 = 32 << 20;

/// A compiled pipeline to upload: a file, bytes, or a [`PipelineSpec`].
///
/// The server decides the format from the file name (`.yaml`, `.yml`, `.json`) or the content
/// (zip, tar.gz).
#[derive(Debug, Clone)]
pub struct PipelinePackage {
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Bytes { filename: String, data: Bytes },
    Spec(Box<PipelineSpec>),
}

impl PipelinePackage {
    /// A file, read when the request is sent.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        PipelinePackage {
            source: Source::File(path.into()),
        }
    }

    /// Bytes with the file name the server sees (e.g. `pipeline.yaml`).
    pub fn bytes(filename: impl Into<String>, data: impl Into<Bytes>) -> Self {
        PipelinePackage {
            source: Source::Bytes {
                filename: filename.into(),
                data: data.into(),
            },
        }
    }

    /// A spec, written as YAML (`pipeline.yaml`).
    pub fn spec(spec: PipelineSpec) -> Self {
        PipelinePackage {
            source: Source::Spec(Box::new(spec)),
        }
    }

    /// The spec's `pipelineInfo.name`, when the package is a spec.
    fn spec_name(&self) -> Option<String> {
        match &self.source {
            Source::Spec(s) => s.name().map(str::to_owned),
            _ => None,
        }
    }

    /// The file name and the content, checked against [`MAX_PACKAGE_SIZE`].
    async fn load(self) -> Result<(String, Bytes)> {
        let too_big = |what: &str, size: u64| {
            Error::invalid_argument(
                "pipeline package",
                format!(
                    "{what} is {size} bytes; the server accepts at most {MAX_PACKAGE_SIZE} bytes (32 MiB)"
                ),
            )
        };
        let (filename, data) = match self.source {
            Source::File(path) => {
                let io = |source| Error::Io {
                    action: "reading",
                    path: path.clone(),
                    source,
                };
                let meta = tokio::fs::metadata(&path).await.map_err(io)?;
                if meta.len() > MAX_PACKAGE_SIZE {
                    return Err(too_big(&path.display().to_string(), meta.len()));
                }
                let data = tokio::fs::read(&path).await.map_err(io)?;
                (file_name(&path), Bytes::from(data))
            }
            Source::Bytes { filename, data } => (filename, data),
            Source::Spec(spec) => ("pipeline.yaml".to_owned(), Bytes::from(spec.to_yaml()?)),
        };
        if data.len() as u64 > MAX_PACKAGE_SIZE {
            return Err(too_big(&filename, data.len() as u64));
        }
        if data.is_empty() {
            return Err(Error::invalid_argument(
                "pipeline package",
                format!("{filename} is empty"),
            ));
        }
        Ok((filename, data))
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline.yaml".to_owned())
}

impl From<PipelineSpec> for PipelinePackage {
    fn from(spec: PipelineSpec) -> Self {
        PipelinePackage::spec(spec)
    }
}

impl From<&PipelineSpec> for PipelinePackage {
    fn from(spec: &PipelineSpec) -> Self {
        PipelinePackage::spec(spec.clone())
    }
}

impl From<&Path> for PipelinePackage {
    fn from(path: &Path) -> Self {
        PipelinePackage::file(path)
    }
}

impl From<PathBuf> for PipelinePackage {
    fn from(path: PathBuf) -> Self {
        PipelinePackage::file(path)
    }
}

/// Query parameters of both upload routes.
#[derive(Debug, Default, Serialize)]
struct UploadQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pipelineid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    /// A JSON object as a string (2.17+).
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_source_url: Option<String>,
}

async fn upload<T: serde::de::DeserializeOwned>(
    kfp: &PipelinesClient,
    route: &str,
    package: PipelinePackage,
    mut query: UploadQuery,
    tags: BTreeMap<String, String>,
) -> Result<T> {
    if !tags.is_empty() {
        query.tags = Some(serde_json::to_string(&tags).map_err(|e| {
            Error::invalid_argument("tags", format!("cannot be written as JSON: {e}"))
        })?);
    }
    let (filename, data) = package.load().await?;
    let form = Multipart::new().part(Part::file("uploadfile", filename, data));
    kfp.post(&format!("{API}/pipelines/{route}"))
        .query(&query)
        .multipart(form)
        .send_json()
        .await
}

macro_rules! upload_setters {
    () => {
        /// Display name (the server takes the file name when neither a name nor a display
        /// name is given).
        pub fn display_name(mut self, v: impl Into<String>) -> Self {
            self.query.display_name = Some(v.into());
            self
        }

        /// Unique name (2.14+).
        pub fn name(mut self, v: impl Into<String>) -> Self {
            self.query.name = Some(v.into());
            self
        }

        /// Description.
        pub fn description(mut self, v: impl Into<String>) -> Self {
            self.query.description = Some(v.into());
            self
        }

        /// Link to the source code.
        pub fn code_source_url(mut self, v: impl Into<String>) -> Self {
            self.query.code_source_url = Some(v.into());
            self
        }

        /// A tag (2.17+).
        pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
            self.tags.insert(key.into(), value.into());
            self
        }
    };
}

/// Builder of [`PipelinesApi::upload`](super::PipelinesApi::upload).
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct UploadPipeline {
    kfp: PipelinesClient,
    package: PipelinePackage,
    query: UploadQuery,
    tags: BTreeMap<String, String>,
}

impl UploadPipeline {
    pub(super) fn new(kfp: PipelinesClient, package: PipelinePackage) -> Self {
        UploadPipeline {
            kfp,
            package,
            query: UploadQuery::default(),
            tags: BTreeMap::new(),
        }
    }

    upload_setters!();

    /// Namespace; unset for a shared pipeline.
    pub fn namespace(mut self, v: impl Into<String>) -> Self {
        self.query.namespace = Some(v.into());
        self
    }

    /// Uploads. A spec's `pipelineInfo.name` is the default name.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a package over 32 MiB or empty (nothing is sent),
    /// [`Error::Io`] for an unreadable file, the server's error (409: the name is taken).
    pub async fn send(self) -> Result<Pipeline> {
        let mut query = self.query;
        if query.name.is_none() && query.display_name.is_none() {
            query.name = self.package.spec_name();
        }
        upload(&self.kfp, "upload", self.package, query, self.tags).await
    }
}

/// Builder of [`PipelinesApi::upload_version`](super::PipelinesApi::upload_version).
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct UploadPipelineVersion {
    kfp: PipelinesClient,
    package: PipelinePackage,
    query: UploadQuery,
    tags: BTreeMap<String, String>,
}

impl UploadPipelineVersion {
    pub(super) fn new(kfp: PipelinesClient, pipeline_id: String, package: PipelinePackage) -> Self {
        UploadPipelineVersion {
            kfp,
            package,
            query: UploadQuery {
                pipelineid: Some(pipeline_id),
                ..UploadQuery::default()
            },
            tags: BTreeMap::new(),
        }
    }

    upload_setters!();

    /// Uploads.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a package over 32 MiB or empty (nothing is sent), or an
    /// empty pipeline id; [`Error::Io`]; the server's error.
    pub async fn send(self) -> Result<PipelineVersion> {
        require(
            "pipeline_id",
            self.query.pipelineid.as_deref().unwrap_or_default(),
        )?;
        upload(
            &self.kfp,
            "upload_version",
            self.package,
            self.query,
            self.tags,
        )
        .await
    }
}
