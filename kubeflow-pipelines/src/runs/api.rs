//! Run operations.

use base64::Engine as _;
use bytes::Bytes;
use kubeflow_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::{Run, WaitRun};
use crate::client::{API, require, seg};
use crate::types::set_param;
use crate::{
    List, PipelineSource, PipelineSpec, PipelineVersionReference, PipelinesClient, RuntimeConfig,
};

/// Run operations: `kfp.runs()`.
#[derive(Debug, Clone)]
pub struct RunsApi {
    kfp: PipelinesClient,
}

impl RunsApi {
    pub(crate) fn new(kfp: PipelinesClient) -> Self {
        RunsApi { kfp }
    }

    /// Starts a run. Give what it runs with [`pipeline_version`](CreateRun::pipeline_version),
    /// [`latest_version_of`](CreateRun::latest_version_of) or
    /// [`pipeline_spec`](CreateRun::pipeline_spec).
    ///
    /// ```no_run
    /// # async fn f(kfp: kubeflow_pipelines::PipelinesClient) -> kubeflow_pipelines::Result<()> {
    /// let run = kfp.runs()
    ///     .create("train lr=0.01")
    ///     .pipeline_version("pipeline-id", "version-id")
    ///     .param("lr", 0.01)
    ///     .experiment("experiment-id")
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, display_name: impl Into<String>) -> CreateRun {
        CreateRun {
            kfp: self.kfp.clone(),
            run: Run {
                display_name: Some(display_name.into()),
                ..Run::default()
            },
            source: None,
            config: RuntimeConfig::default(),
            error: None,
        }
    }

    /// Gets a run.
    ///
    /// # Errors
    /// The server's error (a 404 names the run's path).
    pub async fn get(&self, run_id: &str) -> Result<Run> {
        require("run_id", run_id)?;
        self.kfp
            .get(&format!("{API}/runs/{}", seg(run_id)))
            .send_json()
            .await
    }

    /// Lists runs (in the client's default namespace, if any).
    pub fn list(&self) -> ListRuns {
        ListRuns {
            inner: List::new(self.kfp.clone(), format!("{API}/runs"))
                .set_namespace(self.kfp.namespace().map(str::to_owned)),
        }
    }

    /// Archives a run.
    ///
    /// # Errors
    /// The server's error.
    pub async fn archive(&self, run_id: &str) -> Result<()> {
        self.action(run_id, "archive", true).await
    }

    /// Unarchives a run.
    ///
    /// # Errors
    /// The server's error.
    pub async fn unarchive(&self, run_id: &str) -> Result<()> {
        self.action(run_id, "unarchive", true).await
    }

    /// Terminates a run: it goes to CANCELING, then CANCELED (or whatever Argo ends with).
    ///
    /// # Errors
    /// The server's error.
    pub async fn terminate(&self, run_id: &str) -> Result<()> {
        self.action(run_id, "terminate", true).await
    }

    /// Retries the failed tasks of a run.
    ///
    /// # Errors
    /// The server's error.
    pub async fn retry(&self, run_id: &str) -> Result<()> {
        self.action(run_id, "retry", false).await
    }

    /// Deletes a run.
    ///
    /// # Errors
    /// The server's error.
    pub async fn delete(&self, run_id: &str) -> Result<()> {
        require("run_id", run_id)?;
        self.kfp
            .delete(&format!("{API}/runs/{}", seg(run_id)))
            .send()
            .await
            .map(drop)
    }

    /// Reads an output artifact of a run's Argo node (`node_id` is the node/pod id, e.g.
    /// [`PipelineTaskDetail::pod_name`](crate::PipelineTaskDetail::pod_name); `artifact_name` the
    /// Argo artifact name). Returns the bytes Argo stored (usually a `.tgz`). Runs of v2 IR
    /// pipelines have no workflow artifacts here; the server says so.
    ///
    /// # Errors
    /// The server's error; [`Error::Decode`] when the `data` is not base64.
    pub async fn read_artifact(
        &self,
        run_id: &str,
        node_id: &str,
        artifact_name: &str,
    ) -> Result<Bytes> {
        require("run_id", run_id)?;
        require("node_id", node_id)?;
        require("artifact_name", artifact_name)?;
        #[derive(Deserialize)]
        struct Data {
            #[serde(default)]
            data: String,
        }
        let path = format!(
            "{API}/runs/{}/nodes/{}/artifacts/{}:read",
            seg(run_id),
            seg(node_id),
            seg(artifact_name)
        );
        let body: Data = self.kfp.get(&path).send_json().await?;
        base64::engine::general_purpose::STANDARD
            .decode(body.data.as_bytes())
            .map(Bytes::from)
            .map_err(|e| {
                Error::Decode(Box::new(kubeflow_core::DecodeError::new(
                    "GET",
                    format!("/{path}"),
                    200,
                    "data",
                    format!("not base64: {e}"),
                    body.data.as_bytes(),
                )))
            })
    }

    /// Waits until the run is SUCCEEDED, FAILED, SKIPPED or CANCELED, polling with backoff.
    /// `.await` gives the finished [`Run`] (whatever its final state); see [`WaitRun`] for the
    /// deadline and the progress stream.
    ///
    /// ```no_run
    /// # async fn f(kfp: kubeflow_pipelines::PipelinesClient) -> kubeflow_pipelines::Result<()> {
    /// use std::time::Duration;
    /// let run = kfp.runs()
    ///     .wait("run-id")
    ///     .timeout(Duration::from_secs(3600))
    ///     .on_progress(|state| println!("now {state}"))
    ///     .await?;
    /// println!("finished: {}", run.state());
    /// # Ok(()) }
    /// ```
    pub fn wait(&self, run_id: impl Into<String>) -> WaitRun {
        WaitRun::new(self.clone(), run_id.into())
    }

    async fn action(&self, run_id: &str, verb: &str, idempotent: bool) -> Result<()> {
        require("run_id", run_id)?;
        self.kfp
            .post(&format!("{API}/runs/{}:{verb}", seg(run_id)))
            .idempotent(idempotent)
            .send()
            .await
            .map(drop)
    }
}

/// Builder of [`RunsApi::create`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct CreateRun {
    kfp: PipelinesClient,
    run: Run,
    source: Option<PipelineSource>,
    config: RuntimeConfig,
    /// The first invalid argument: (name, message).
    error: Option<(String, String)>,
}

impl CreateRun {
    /// Runs this pipeline version.
    pub fn pipeline_version(
        self,
        pipeline_id: impl Into<String>,
        pipeline_version_id: impl Into<String>,
    ) -> Self {
        self.source(PipelineVersionReference::new(
            pipeline_id,
            pipeline_version_id,
        ))
    }

    /// Runs the latest version of this pipeline.
    pub fn latest_version_of(self, pipeline_id: impl Into<String>) -> Self {
        self.source(PipelineVersionReference::latest(pipeline_id))
    }

    /// Runs an inline compiled pipeline (the server may record it as a pipeline and version).
    pub fn pipeline_spec(self, spec: PipelineSpec) -> Self {
        self.source(spec)
    }

    /// Sets what the run executes (replaces an earlier choice).
    pub fn source(mut self, source: impl Into<PipelineSource>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A runtime parameter (any value that serialises to JSON).
    pub fn param(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        set_param(&mut self.config, &mut self.error, name.into(), value);
        self
    }

    /// Several runtime parameters.
    pub fn params<K: Into<String>, V: Serialize>(
        mut self,
        params: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        for (k, v) in params {
            self = self.param(k, v);
        }
        self
    }

    /// Where artifacts go (e.g. `s3://bucket/root`).
    pub fn pipeline_root(mut self, root: impl Into<String>) -> Self {
        self.config.pipeline_root = Some(root.into());
        self
    }

    /// The Kubernetes service account of the run's pods.
    pub fn service_account(mut self, sa: impl Into<String>) -> Self {
        self.run.service_account = Some(sa.into());
        self
    }

    /// The experiment (the server's default experiment otherwise).
    pub fn experiment(mut self, experiment_id: impl Into<String>) -> Self {
        self.run.experiment_id = Some(experiment_id.into());
        self
    }

    /// Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.run.description = Some(d.into());
        self
    }

    /// The request body this builder sends (for inspection and tests).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no pipeline was given or a parameter is invalid.
    pub fn body(&self) -> Result<Run> {
        if let Some((name, message)) = &self.error {
            return Err(Error::invalid_argument(name, message));
        }
        let mut run = self.run.clone();
        match &self.source {
            Some(PipelineSource::Version(r)) => {
                require("pipeline_id", r.pipeline_id.as_deref().unwrap_or_default())?;
                run.pipeline_version_reference = Some(r.clone());
            }
            Some(PipelineSource::Spec(s)) => run.pipeline_spec = Some(s.clone()),
            None => {
                return Err(Error::invalid_argument(
                    "run",
                    "no pipeline: call pipeline_version, latest_version_of or pipeline_spec",
                ));
            }
        }
        if !self.config.is_empty() {
            run.runtime_config = Some(self.config.clone());
        }
        Ok(run)
    }

    /// Creates the run.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (nothing sent) as [`CreateRun::body`]; the server's error.
    pub async fn send(self) -> Result<Run> {
        let body = self.body()?;
        self.kfp
            .post(&format!("{API}/runs"))
            .json(&body)
            .send_json()
            .await
    }
}

/// Builder of [`RunsApi::list`]; see [`List`] for paging.
#[derive(Debug)]
#[must_use = "a list request does nothing until sent or streamed"]
pub struct ListRuns {
    inner: List<Run>,
}

impl ListRuns {
    /// Lists in this namespace (overrides the client's default).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.inner = self.inner.set_namespace(Some(ns.into()));
        self
    }

    /// Only the runs of this experiment.
    pub fn experiment(mut self, experiment_id: impl Into<String>) -> Self {
        self.inner = self.inner.set_experiment(experiment_id);
        self
    }
}

crate::list::deref_list!(ListRuns, Run);
