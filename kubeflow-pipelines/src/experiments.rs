//! Experiments: create, get, list, archive, unarchive, delete.

use chrono::{DateTime, Utc};
use kubeflow_core::Result;
use serde::{Deserialize, Serialize};

use crate::client::{API, require, seg};
use crate::types::Extra;
use crate::{List, PipelinesClient, StorageState};

/// An experiment: a group of runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Experiment {
    /// Server-assigned id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_id: Option<String>,
    /// Name shown in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
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
    /// Namespace (multi-user mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Archived or available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_state: Option<StorageState>,
    /// When the last run of the experiment was created.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_run_created_at: Option<DateTime<Utc>>,
    /// Fields this SDK does not know.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

impl Experiment {
    /// The id, or an error naming the experiment when the server did not send one.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the id is missing.
    pub fn id(&self) -> Result<&str> {
        self.experiment_id.as_deref().ok_or_else(|| {
            kubeflow_core::Error::invalid_argument(
                "experiment",
                format!(
                    "the experiment {:?} has no experiment_id",
                    self.display_name.as_deref().unwrap_or("")
                ),
            )
        })
    }
}

/// Experiment operations: `kfp.experiments()`.
#[derive(Debug, Clone)]
pub struct ExperimentsApi {
    kfp: PipelinesClient,
}

impl ExperimentsApi {
    pub(crate) fn new(kfp: PipelinesClient) -> Self {
        ExperimentsApi { kfp }
    }

    /// Creates an experiment (in the client's default namespace unless
    /// [`namespace`](CreateExperiment::namespace) is set).
    ///
    /// ```no_run
    /// # async fn f(kfp: kubeflow_pipelines::PipelinesClient) -> kubeflow_pipelines::Result<()> {
    /// let exp = kfp.experiments().create("nightly").description("nightly training").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, display_name: impl Into<String>) -> CreateExperiment {
        CreateExperiment {
            kfp: self.kfp.clone(),
            body: Experiment {
                display_name: Some(display_name.into()),
                namespace: self.kfp.namespace().map(str::to_owned),
                ..Experiment::default()
            },
        }
    }

    /// Gets an experiment by id.
    ///
    /// # Errors
    /// The server's error (404 names the experiment's path).
    pub async fn get(&self, experiment_id: &str) -> Result<Experiment> {
        require("experiment_id", experiment_id)?;
        self.kfp
            .get(&format!("{API}/experiments/{}", seg(experiment_id)))
            .send_json()
            .await
    }

    /// Finds an experiment by its display name (in the client's default namespace).
    /// `Ok(None)` when there is none.
    ///
    /// # Errors
    /// The server's error, or [`Error::InvalidArgument`](crate::Error::InvalidArgument) when
    /// several experiments have that name.
    pub async fn get_by_name(&self, display_name: &str) -> Result<Option<Experiment>> {
        let page = self
            .list()
            .filter(crate::Filter::eq("display_name", display_name))
            .page_size(2)
            .send()
            .await?;
        let mut items = page.items.into_iter();
        match (items.next(), items.next()) {
            (None, _) => Ok(None),
            (Some(e), None) => Ok(Some(e)),
            (Some(_), Some(_)) => Err(kubeflow_core::Error::invalid_argument(
                "display_name",
                format!("several experiments are named {display_name:?}"),
            )),
        }
    }

    /// Lists experiments (in the client's default namespace, if any).
    pub fn list(&self) -> ListExperiments {
        ListExperiments {
            inner: List::new(self.kfp.clone(), format!("{API}/experiments"))
                .set_namespace(self.kfp.namespace().map(str::to_owned)),
        }
    }

    /// Archives an experiment (and its runs and recurring runs).
    ///
    /// # Errors
    /// The server's error.
    pub async fn archive(&self, experiment_id: &str) -> Result<()> {
        self.action(experiment_id, "archive").await
    }

    /// Unarchives an experiment (its runs stay archived).
    ///
    /// # Errors
    /// The server's error.
    pub async fn unarchive(&self, experiment_id: &str) -> Result<()> {
        self.action(experiment_id, "unarchive").await
    }

    /// Deletes an experiment (its runs are not deleted).
    ///
    /// # Errors
    /// The server's error.
    pub async fn delete(&self, experiment_id: &str) -> Result<()> {
        require("experiment_id", experiment_id)?;
        self.kfp
            .delete(&format!("{API}/experiments/{}", seg(experiment_id)))
            .send()
            .await
            .map(drop)
    }

    async fn action(&self, experiment_id: &str, verb: &str) -> Result<()> {
        require("experiment_id", experiment_id)?;
        self.kfp
            .post(&format!("{API}/experiments/{}:{verb}", seg(experiment_id)))
            // Archiving twice is harmless: safe to retry.
            .idempotent(true)
            .send()
            .await
            .map(drop)
    }
}

/// Builder of [`ExperimentsApi::create`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct CreateExperiment {
    kfp: PipelinesClient,
    body: Experiment,
}

impl CreateExperiment {
    /// Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.body.description = Some(d.into());
        self
    }

    /// Namespace (required in multi-user mode; overrides the client's default).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.body.namespace = Some(ns.into());
        self
    }

    /// Creates the experiment.
    ///
    /// # Errors
    /// The server's error (409 when the name is taken).
    pub async fn send(self) -> Result<Experiment> {
        self.kfp
            .post(&format!("{API}/experiments"))
            .json(&self.body)
            .send_json()
            .await
    }
}

/// Builder of [`ExperimentsApi::list`]; see [`List`] for paging.
#[derive(Debug)]
#[must_use = "a list request does nothing until sent or streamed"]
pub struct ListExperiments {
    inner: List<Experiment>,
}

impl ListExperiments {
    /// Lists in this namespace (overrides the client's default).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.inner = self.inner.set_namespace(Some(ns.into()));
        self
    }
}

crate::list::deref_list!(ListExperiments, Experiment);
