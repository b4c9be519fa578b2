//! Recurring runs (schedules): create, get, list, enable, disable, delete.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kubeflow_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{API, require, seg};
use crate::serde_util::{kfp_enum, null_default};
use crate::types::{Extra, Status, set_param};
use crate::{
    List, PipelineSource, PipelineSpec, PipelineVersionReference, PipelinesClient, RuntimeConfig,
};

kfp_enum! {
    /// Requested mode of a recurring run (input only).
    pub enum RecurringRunMode {
        /// Not set.
        Unspecified = ("MODE_UNSPECIFIED", 0),
        /// Schedules runs.
        Enable = ("ENABLE", 1),
        /// Schedules nothing.
        Disable = ("DISABLE", 2),
    }
}

kfp_enum! {
    /// Status of a recurring run (output).
    pub enum RecurringRunStatus {
        /// Not set.
        Unspecified = ("STATUS_UNSPECIFIED", 0),
        /// Enabled.
        Enabled = ("ENABLED", 1),
        /// Disabled.
        Disabled = ("DISABLED", 3),
    }
}

kfp_enum! {
    /// What happens to a recurring run's runs when it is deleted.
    pub enum DeletePropagationPolicy {
        /// The server's default.
        Unspecified = ("DELETE_PROPAGATION_POLICY_UNSPECIFIED", 0),
        /// Delete dependents first.
        Foreground = ("FOREGROUND", 1),
        /// Delete dependents in the background.
        Background = ("BACKGROUND", 2),
        /// Keep dependents.
        Orphan = ("ORPHAN", 3),
    }
}

/// A cron schedule (robfig/cron with **6 fields**, seconds first: `0 0 9 * * 1-5`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CronSchedule {
    /// First time a run may be scheduled.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<DateTime<Utc>>,
    /// Last time a run may be scheduled.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<DateTime<Utc>>,
    /// The cron expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
}

/// A fixed-interval schedule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PeriodicSchedule {
    /// First time a run may be scheduled.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<DateTime<Utc>>,
    /// Last time a run may be scheduled.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<DateTime<Utc>>,
    /// Seconds between runs.
    #[serde(
        default,
        with = "crate::serde_util::int64",
        skip_serializing_if = "Option::is_none"
    )]
    pub interval_second: Option<i64>,
}

/// When a recurring run starts runs: exactly one of the two schedules.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Trigger {
    /// A cron schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_schedule: Option<CronSchedule>,
    /// A periodic schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periodic_schedule: Option<PeriodicSchedule>,
}

impl Trigger {
    /// A cron trigger (6 fields, seconds first: `"0 0 * * * *"` is hourly).
    pub fn cron(expression: impl Into<String>) -> Self {
        Trigger {
            cron_schedule: Some(CronSchedule {
                cron: Some(expression.into()),
                ..CronSchedule::default()
            }),
            periodic_schedule: None,
        }
    }

    /// A periodic trigger (whole seconds; at least one).
    pub fn every(interval: Duration) -> Self {
        Trigger {
            cron_schedule: None,
            periodic_schedule: Some(PeriodicSchedule {
                interval_second: Some(i64::try_from(interval.as_secs()).unwrap_or(i64::MAX)),
                ..PeriodicSchedule::default()
            }),
        }
    }

    /// Sets the start of the schedule.
    #[must_use]
    pub fn start(mut self, at: DateTime<Utc>) -> Self {
        if let Some(c) = &mut self.cron_schedule {
            c.start_time = Some(at);
        }
        if let Some(p) = &mut self.periodic_schedule {
            p.start_time = Some(at);
        }
        self
    }

    /// Sets the end of the schedule.
    #[must_use]
    pub fn end(mut self, at: DateTime<Utc>) -> Self {
        if let Some(c) = &mut self.cron_schedule {
            c.end_time = Some(at);
        }
        if let Some(p) = &mut self.periodic_schedule {
            p.end_time = Some(at);
        }
        self
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::invalid_argument("trigger", m));
        match (&self.cron_schedule, &self.periodic_schedule) {
            (Some(_), Some(_)) | (None, None) => {
                bad("give exactly one of a cron or a periodic schedule")
            }
            (Some(c), None) => match c.cron.as_deref().map(str::split_whitespace) {
                Some(fields) if fields.clone().count() == 6 => Ok(()),
                _ => bad(
                    "the cron expression needs 6 fields, seconds first (e.g. \"0 0 9 * * 1-5\")",
                ),
            },
            (None, Some(p)) => match p.interval_second {
                Some(s) if s >= 1 => Ok(()),
                _ => bad("the interval must be at least one second"),
            },
        }
    }
}

/// A recurring run: a schedule that starts runs of a pipeline.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecurringRun {
    /// Server-assigned id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_run_id: Option<String>,
    /// Name shown in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Deprecated source: a pipeline version id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_version_id: Option<String>,
    /// Source: an inline compiled pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_spec: Option<PipelineSpec>,
    /// Source: a stored pipeline version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_version_reference: Option<PipelineVersionReference>,
    /// Parameters and pipeline root of the runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_config: Option<RuntimeConfig>,
    /// Service account of the runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// How many runs may run at once (1–10).
    #[serde(
        default,
        with = "crate::serde_util::int64",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_concurrency: Option<i64>,
    /// The schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// Requested mode (input only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<RecurringRunMode>,
    /// Creation time.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<DateTime<Utc>>,
    /// Last update time.
    #[serde(
        default,
        with = "crate::serde_util::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<DateTime<Utc>>,
    /// Enabled or disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RecurringRunStatus>,
    /// Error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Status>,
    /// When true, missed runs (e.g. while disabled) are not started afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_catchup: Option<bool>,
    /// Namespace (from the experiment; output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The experiment of the runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_id: Option<String>,
    /// Plugin inputs (2.17+), as JSON.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugins_input: BTreeMap<String, Value>,
    /// Fields this SDK does not know.
    #[serde(flatten, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Recurring run operations: `kfp.recurring_runs()`.
#[derive(Debug, Clone)]
pub struct RecurringRunsApi {
    kfp: PipelinesClient,
}

impl RecurringRunsApi {
    pub(crate) fn new(kfp: PipelinesClient) -> Self {
        RecurringRunsApi { kfp }
    }

    /// Creates a recurring run (enabled unless [`enabled(false)`](CreateRecurringRun::enabled)).
    ///
    /// ```no_run
    /// # async fn f(kfp: kubeflow_pipelines::PipelinesClient) -> kubeflow_pipelines::Result<()> {
    /// use kubeflow_pipelines::Trigger;
    /// let rr = kfp.recurring_runs()
    ///     .create("nightly", Trigger::cron("0 0 2 * * *"))
    ///     .latest_version_of("pipeline-id")
    ///     .experiment("experiment-id")
    ///     .max_concurrency(1)
    ///     .no_catchup(true)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn create(&self, display_name: impl Into<String>, trigger: Trigger) -> CreateRecurringRun {
        CreateRecurringRun {
            kfp: self.kfp.clone(),
            body: RecurringRun {
                display_name: Some(display_name.into()),
                trigger: Some(trigger),
                mode: Some(RecurringRunMode::Enable),
                ..RecurringRun::default()
            },
            source: None,
            config: RuntimeConfig::default(),
            error: None,
        }
    }

    /// Gets a recurring run.
    ///
    /// # Errors
    /// The server's error.
    pub async fn get(&self, recurring_run_id: &str) -> Result<RecurringRun> {
        require("recurring_run_id", recurring_run_id)?;
        self.kfp
            .get(&format!("{API}/recurringruns/{}", seg(recurring_run_id)))
            .send_json()
            .await
    }

    /// Lists recurring runs (in the client's default namespace, if any).
    pub fn list(&self) -> ListRecurringRuns {
        ListRecurringRuns {
            inner: List::new(self.kfp.clone(), format!("{API}/recurringruns"))
                .set_namespace(self.kfp.namespace().map(str::to_owned)),
        }
    }

    /// Enables a recurring run.
    ///
    /// # Errors
    /// The server's error.
    pub async fn enable(&self, recurring_run_id: &str) -> Result<()> {
        self.action(recurring_run_id, "enable").await
    }

    /// Disables a recurring run.
    ///
    /// # Errors
    /// The server's error.
    pub async fn disable(&self, recurring_run_id: &str) -> Result<()> {
        self.action(recurring_run_id, "disable").await
    }

    /// Deletes a recurring run; `policy` says what happens to its runs (the server's default
    /// when `None`).
    ///
    /// # Errors
    /// The server's error.
    pub async fn delete(
        &self,
        recurring_run_id: &str,
        policy: Option<DeletePropagationPolicy>,
    ) -> Result<()> {
        require("recurring_run_id", recurring_run_id)?;
        #[derive(Serialize)]
        struct Q {
            #[serde(skip_serializing_if = "Option::is_none")]
            propagation_policy: Option<DeletePropagationPolicy>,
        }
        self.kfp
            .delete(&format!("{API}/recurringruns/{}", seg(recurring_run_id)))
            .query(&Q {
                propagation_policy: policy,
            })
            .send()
            .await
            .map(drop)
    }

    async fn action(&self, id: &str, verb: &str) -> Result<()> {
        require("recurring_run_id", id)?;
        self.kfp
            .post(&format!("{API}/recurringruns/{}:{verb}", seg(id)))
            .idempotent(true)
            .send()
            .await
            .map(drop)
    }
}

/// Builder of [`RecurringRunsApi::create`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct CreateRecurringRun {
    kfp: PipelinesClient,
    body: RecurringRun,
    source: Option<PipelineSource>,
    config: RuntimeConfig,
    error: Option<(String, String)>,
}

impl CreateRecurringRun {
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

    /// Runs the latest version of this pipeline (at each run).
    pub fn latest_version_of(self, pipeline_id: impl Into<String>) -> Self {
        self.source(PipelineVersionReference::latest(pipeline_id))
    }

    /// Runs an inline compiled pipeline.
    pub fn pipeline_spec(self, spec: PipelineSpec) -> Self {
        self.source(spec)
    }

    /// Sets what the runs execute.
    pub fn source(mut self, source: impl Into<PipelineSource>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A runtime parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        set_param(&mut self.config, &mut self.error, name.into(), value);
        self
    }

    /// Where artifacts go.
    pub fn pipeline_root(mut self, root: impl Into<String>) -> Self {
        self.config.pipeline_root = Some(root.into());
        self
    }

    /// The service account of the runs.
    pub fn service_account(mut self, sa: impl Into<String>) -> Self {
        self.body.service_account = Some(sa.into());
        self
    }

    /// The experiment of the runs.
    pub fn experiment(mut self, experiment_id: impl Into<String>) -> Self {
        self.body.experiment_id = Some(experiment_id.into());
        self
    }

    /// Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.body.description = Some(d.into());
        self
    }

    /// How many runs may run at once (1–10).
    pub fn max_concurrency(mut self, n: u8) -> Self {
        self.body.max_concurrency = Some(i64::from(n));
        self
    }

    /// Skips the runs missed while disabled or behind schedule.
    pub fn no_catchup(mut self, yes: bool) -> Self {
        self.body.no_catchup = Some(yes);
        self
    }

    /// Creates it enabled (default) or disabled.
    pub fn enabled(mut self, yes: bool) -> Self {
        self.body.mode = Some(if yes {
            RecurringRunMode::Enable
        } else {
            RecurringRunMode::Disable
        });
        self
    }

    /// The request body this builder sends.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a missing pipeline, a bad trigger, a max concurrency
    /// outside 1–10 or an invalid parameter.
    pub fn body(&self) -> Result<RecurringRun> {
        if let Some((name, message)) = &self.error {
            return Err(Error::invalid_argument(name, message));
        }
        let mut body = self.body.clone();
        if let Some(t) = &body.trigger {
            t.validate()?;
        }
        if let Some(n) = body.max_concurrency
            && !(1..=10).contains(&n)
        {
            return Err(Error::invalid_argument(
                "max_concurrency",
                format!("{n} is out of range: the server accepts 1 to 10"),
            ));
        }
        match &self.source {
            Some(PipelineSource::Version(r)) => {
                require("pipeline_id", r.pipeline_id.as_deref().unwrap_or_default())?;
                body.pipeline_version_reference = Some(r.clone());
            }
            Some(PipelineSource::Spec(s)) => body.pipeline_spec = Some(s.clone()),
            None => {
                return Err(Error::invalid_argument(
                    "recurring run",
                    "no pipeline: call pipeline_version, latest_version_of or pipeline_spec",
                ));
            }
        }
        if !self.config.is_empty() {
            body.runtime_config = Some(self.config.clone());
        }
        Ok(body)
    }

    /// Creates the recurring run.
    ///
    /// # Errors
    /// As [`CreateRecurringRun::body`] (nothing sent); the server's error.
    pub async fn send(self) -> Result<RecurringRun> {
        let body = self.body()?;
        self.kfp
            .post(&format!("{API}/recurringruns"))
            .json(&body)
            .send_json()
            .await
    }
}

/// Builder of [`RecurringRunsApi::list`]; see [`List`] for paging.
#[derive(Debug)]
#[must_use = "a list request does nothing until sent or streamed"]
pub struct ListRecurringRuns {
    inner: List<RecurringRun>,
}

impl ListRecurringRuns {
    /// Lists in this namespace (overrides the client's default).
    pub fn namespace(mut self, ns: impl Into<String>) -> Self {
        self.inner = self.inner.set_namespace(Some(ns.into()));
        self
    }

    /// Only the recurring runs of this experiment.
    pub fn experiment(mut self, experiment_id: impl Into<String>) -> Self {
        self.inner = self.inner.set_experiment(experiment_id);
        self
    }
}

crate::list::deref_list!(ListRecurringRuns, RecurringRun);
