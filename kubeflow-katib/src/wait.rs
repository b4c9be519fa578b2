//! Waiting for an Experiment, watch-based, with progress.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::Api;
use kubeflow_core::wait::{self, Check, WaitError, WaitEvent};

use crate::enums::{ExperimentConditionType, MetricStrategyType, ObjectiveType};
use crate::error::{Error, Result};
use crate::types::Experiment;

/// What an experiment is doing, as seen by [`WaitExperiment`]: its phase, its trial counters
/// and the best trial so far. Reported each time it changes.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ExperimentProgress {
    /// The most advanced condition that is `"True"` (Failed, Succeeded, Restarting, Running,
    /// Created); `None` before the controller saw the experiment.
    pub phase: Option<ExperimentConditionType>,
    /// Trials created.
    pub trials: i32,
    /// Trials pending.
    pub pending: i32,
    /// Trials running.
    pub running: i32,
    /// Trials succeeded.
    pub succeeded: i32,
    /// Trials failed.
    pub failed: i32,
    /// Trials early-stopped.
    pub early_stopped: i32,
    /// The objective metric.
    pub objective_metric: Option<String>,
    /// The best trial so far.
    pub best_trial: Option<String>,
    /// Its objective value (the metric strategy's value: min, max or latest).
    pub best_value: Option<String>,
}

impl ExperimentProgress {
    /// The progress an experiment shows.
    pub fn of(exp: &Experiment) -> Self {
        use ExperimentConditionType as C;
        let phase = [
            C::Failed,
            C::Succeeded,
            C::Restarting,
            C::Running,
            C::Created,
        ]
        .into_iter()
        .find(|c| exp.has_condition(c.clone()));
        let st = exp.status.clone().unwrap_or_default();
        let objective = exp.spec.objective.as_ref();
        let metric = objective.and_then(|o| o.objective_metric_name.clone());
        let strategy = objective
            .and_then(|o| {
                o.metric_strategies
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .find(|s| s.name == metric)
                    .and_then(|s| s.value.clone())
            })
            .unwrap_or(match objective.and_then(|o| o.type_.clone()) {
                Some(ObjectiveType::Minimize) => MetricStrategyType::Min,
                Some(ObjectiveType::Maximize) => MetricStrategyType::Max,
                _ => MetricStrategyType::Latest,
            });
        let best = exp.optimal_trial();
        let best_value = best
            .zip(metric.as_deref())
            .and_then(|(b, m)| b.metric(m))
            .and_then(|m| match strategy {
                MetricStrategyType::Min => m.min.clone(),
                MetricStrategyType::Max => m.max.clone(),
                _ => m.latest.clone(),
            });
        ExperimentProgress {
            phase,
            trials: st.trials.unwrap_or(0),
            pending: st.trials_pending.unwrap_or(0),
            running: st.trials_running.unwrap_or(0),
            succeeded: st.trials_succeeded.unwrap_or(0),
            failed: st.trials_failed.unwrap_or(0),
            early_stopped: st.trials_early_stopped.unwrap_or(0),
            objective_metric: metric,
            best_trial: best.and_then(|b| b.best_trial_name.clone()),
            best_value,
        }
    }
}

impl fmt::Display for ExperimentProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = self.phase.as_ref().map(|p| p.as_str()).unwrap_or("Pending");
        write!(
            f,
            "{phase}: {} trials ({} running, {} pending, {} succeeded, {} failed",
            self.trials, self.running, self.pending, self.succeeded, self.failed
        )?;
        if self.early_stopped > 0 {
            write!(f, ", {} early-stopped", self.early_stopped)?;
        }
        f.write_str(")")?;
        if let (Some(t), Some(v)) = (&self.best_trial, &self.best_value) {
            let m = self.objective_metric.as_deref().unwrap_or("objective");
            write!(f, "; best {m}={v} ({t})")?;
        }
        Ok(())
    }
}

type Reason = Arc<Mutex<Option<(String, String)>>>;
type ProgressFn = Box<dyn FnMut(&ExperimentProgress) + Send>;

/// Waits until an experiment reaches a condition (default: `Succeeded`), watching it. Build it
/// with [`KatibClient::wait`](crate::KatibClient::wait), then `.await` it or call
/// [`stream`](WaitExperiment::stream).
///
/// A `Failed` experiment ends the wait with [`Error::ExperimentFailed`] carrying the failure's
/// reason and message (unless `Failed` is what you wait for). Awaiting checks first that the
/// experiment exists (a 404 is returned at once); a deleted experiment ends the wait with
/// [`Error::Wait`].
#[must_use = "a wait does nothing until it is awaited or streamed"]
pub struct WaitExperiment {
    api: Api<Experiment>,
    namespace: String,
    name: String,
    until: ExperimentConditionType,
    timeout: Option<Duration>,
    on_progress: Option<ProgressFn>,
}

impl fmt::Debug for WaitExperiment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitExperiment")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("until", &self.until)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl WaitExperiment {
    pub(crate) fn new(api: Api<Experiment>, namespace: String, name: String) -> Self {
        WaitExperiment {
            api,
            namespace,
            name,
            until: ExperimentConditionType::Succeeded,
            timeout: None,
            on_progress: None,
        }
    }

    /// The condition to wait for: `Created`, `Running`, `Restarting`, `Succeeded` (default) or
    /// `Failed`. Waiting for `Created` or `Running` also ends when the experiment already
    /// succeeded.
    pub fn until(mut self, condition: ExperimentConditionType) -> Self {
        self.until = condition;
        self
    }

    /// Gives up after this long (default: no deadline).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Called with the progress each time it changes.
    pub fn on_progress(mut self, f: impl FnMut(&ExperimentProgress) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    fn build(
        self,
    ) -> (
        wait::Wait<Experiment, ExperimentProgress>,
        Reason,
        String,
        String,
    ) {
        let reason: Reason = Arc::new(Mutex::new(None));
        let seen = reason.clone();
        let until = self.until.clone();
        let cond = move |exp: Option<&Experiment>| {
            use ExperimentConditionType as C;
            let Some(exp) = exp else {
                return Check::Pending(ExperimentProgress::default());
            };
            let progress = ExperimentProgress::of(exp);
            if exp.has_condition(until.clone()) {
                return Check::Done(progress);
            }
            if matches!(until, C::Created | C::Running) && exp.is_succeeded() {
                return Check::Done(progress);
            }
            if let Some(c) = exp.condition(C::Failed) {
                let r = c.reason.clone().unwrap_or_else(|| "Failed".into());
                let m = c.message.clone().unwrap_or_default();
                let text = format!("{r}: {m}");
                if let Ok(mut slot) = seen.lock() {
                    *slot = Some((r, m));
                }
                return Check::Failed(progress, text);
            }
            if until == C::Failed && exp.is_succeeded() {
                return Check::Failed(
                    progress,
                    "the experiment succeeded; it will not fail".into(),
                );
            }
            Check::Pending(progress)
        };
        let mut w = wait::object(self.api, &self.name, cond).what(format!(
            "Experiment {}/{} to be {}",
            self.namespace, self.name, self.until
        ));
        if let Some(t) = self.timeout {
            w = w.timeout(t);
        }
        if let Some(f) = self.on_progress {
            w = w.on_progress(f);
        }
        (w, reason, self.namespace, self.name)
    }

    /// The wait as a stream of progress events, ending with the experiment.
    pub fn stream(
        self,
    ) -> impl Stream<Item = Result<WaitEvent<ExperimentProgress, Experiment>>> + Send {
        let (w, reason, ns, name) = self.build();
        w.stream()
            .map(move |item| item.map_err(|e| map_error(e, &reason, &ns, &name)))
    }
}

fn map_error(e: WaitError, reason: &Reason, namespace: &str, name: &str) -> Error {
    if let WaitError::Failed { .. } = &e
        && let Some((reason, message)) = reason.lock().ok().and_then(|r| r.clone())
    {
        return Error::ExperimentFailed {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            reason,
            message,
        };
    }
    Error::Wait(e)
}

impl IntoFuture for WaitExperiment {
    type Output = Result<Experiment>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            // An experiment that does not exist is an error now, not a wait until the deadline.
            self.api.get(&self.name).await?;
            let (w, reason, ns, name) = self.build();
            match w.await {
                Ok(Some(exp)) => Ok(exp),
                Ok(None) => Err(Error::Wait(WaitError::Gone {
                    what: format!("Experiment {ns}/{name}"),
                    last_state: None,
                })),
                Err(e) => Err(map_error(e, &reason, &ns, &name)),
            }
        })
    }
}
