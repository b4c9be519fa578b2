//! Waiting for a notebook to be ready or stopped, by watching it.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use std::sync::{Arc, Mutex};

use kube::Api;
use kubeflow_core::wait::{Check, WaitError};

use crate::error::{Error, Result};
use crate::notebook::{Notebook, NotebookPhase};

/// How long a wait lasts unless told otherwise.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Ready,
    Stopped,
}

impl Target {
    fn as_str(self) -> &'static str {
        match self {
            Target::Ready => "ready",
            Target::Stopped => "stopped",
        }
    }
}

type ProgressFn = Box<dyn FnMut(&NotebookPhase) + Send>;

/// A wait for a notebook, from [`NotebooksClient::wait_ready`] or
/// [`NotebooksClient::wait_stopped`]; `.await` it. It watches the notebook (no polling) and
/// reports each new [`NotebookPhase`] to [`on_progress`](Self::on_progress).
///
/// The error names the last phase, with the container's waiting reason and message
/// (`waiting: ImagePullBackOff (Back-off pulling image "nope")`).
///
/// [`NotebooksClient::wait_ready`]: crate::NotebooksClient::wait_ready
/// [`NotebooksClient::wait_stopped`]: crate::NotebooksClient::wait_stopped
#[must_use = "a wait does nothing until it is awaited"]
pub struct WaitNotebook {
    api: Api<Notebook>,
    namespace: String,
    name: String,
    target: Target,
    timeout: Duration,
    fail_fast: bool,
    on_progress: Option<ProgressFn>,
}

impl std::fmt::Debug for WaitNotebook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitNotebook")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .field("fail_fast", &self.fail_fast)
            .finish_non_exhaustive()
    }
}

impl WaitNotebook {
    pub(crate) fn new(api: Api<Notebook>, namespace: &str, name: &str, target: Target) -> Self {
        WaitNotebook {
            api,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            target,
            timeout: DEFAULT_WAIT_TIMEOUT,
            fail_fast: true,
            on_progress: None,
        }
    }

    /// Gives up after `timeout` (default 5 minutes) with [`Error::Timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether waiting for ready stops at once with [`Error::NotStarting`] when the container
    /// waits for a reason that needs a change (`ImagePullBackOff`, `CrashLoopBackOff`, …;
    /// default `true`). A terminated container alone does not end the wait: right after a
    /// start the status may still show the container of the stopped pod. With `false`, only
    /// the deadline ends the wait.
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// Called with each new phase (never twice in a row with the same one).
    pub fn on_progress(mut self, f: impl FnMut(&NotebookPhase) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    async fn run(self) -> Result<Notebook> {
        let WaitNotebook {
            api,
            namespace,
            name,
            target,
            timeout,
            fail_fast,
            mut on_progress,
        } = self;
        // The last phase, for the deadline's error (kubeflow-core reports it as a Debug string).
        let last = Arc::new(Mutex::new(None::<NotebookPhase>));
        let last_seen = last.clone();
        let condition = move |nb: Option<&Notebook>| -> Check<NotebookPhase> {
            let Some(nb) = nb else {
                return Check::Pending(NotebookPhase::Uninitialized);
            };
            let phase = nb.phase();
            if let Ok(mut l) = last_seen.lock() {
                *l = Some(phase.clone());
            }
            match (target, &phase) {
                (Target::Ready, NotebookPhase::Ready)
                | (Target::Stopped, NotebookPhase::Stopped) => Check::Done(phase),
                (Target::Ready, NotebookPhase::Stopped | NotebookPhase::Stopping) => {
                    Check::Failed(phase, "stopped".into())
                }
                (Target::Ready, p) if fail_fast && p.is_fatal() => {
                    Check::Failed(phase, "fatal".into())
                }
                _ => Check::Pending(phase),
            }
        };
        let outcome = kubeflow_core::wait::object(api, &name, condition)
            .what(format!(
                "notebook {namespace}/{name} to be {}",
                target.as_str()
            ))
            .timeout(timeout)
            .on_progress(move |phase: &NotebookPhase| {
                tracing::debug!(%phase, "notebook phase");
                if let Some(f) = on_progress.as_mut() {
                    f(phase);
                }
            })
            .await;
        let last_phase = || last.lock().ok().and_then(|l| l.clone());
        match outcome {
            Ok(Some(nb)) => Ok(nb),
            Ok(None) | Err(WaitError::Gone { .. }) => Err(Error::Gone {
                namespace,
                name,
                target: target.as_str(),
            }),
            Err(WaitError::Failed { .. }) => Err(Error::NotStarting {
                namespace,
                name,
                phase: Box::new(last_phase().unwrap_or(NotebookPhase::Uninitialized)),
            }),
            Err(WaitError::Deadline { after, .. }) => Err(Error::Timeout {
                namespace,
                name,
                target: target.as_str(),
                after,
                phase: last_phase()
                    .filter(|p| *p != NotebookPhase::Uninitialized)
                    .map(Box::new),
            }),
            Err(other) => Err(kubeflow_core::Error::from(other).into()),
        }
    }
}

impl IntoFuture for WaitNotebook {
    type Output = Result<Notebook>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
