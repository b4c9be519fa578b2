//! Waiting for a run to finish.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use futures::StreamExt;
use kubeflow_core::Result;
use kubeflow_core::wait::{self, Check, WaitEvent};

use super::{Run, RunsApi};
use crate::RuntimeState;

type ProgressFn = Box<dyn FnMut(&RuntimeState) + Send>;

/// Waits for a run to reach SUCCEEDED, FAILED, SKIPPED or CANCELED (the server's terminal
/// states; CANCELING and PAUSED are not). Built by [`RunsApi::wait`].
///
/// It polls `GET /apis/v2beta1/runs/{id}` with jittered exponential backoff (1 s growing to
/// 30 s by default), so credentials that expire during a long wait are refreshed by the HTTP
/// layer on the next 401. `.await` it for the finished run, or call
/// [`stream`](WaitRun::stream) for each state change as it happens.
#[must_use = "a wait does nothing until awaited or streamed"]
pub struct WaitRun {
    api: RunsApi,
    run_id: String,
    timeout: Option<Duration>,
    interval: (Duration, Duration),
    on_progress: Option<ProgressFn>,
}

impl fmt::Debug for WaitRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitRun")
            .field("run_id", &self.run_id)
            .field("timeout", &self.timeout)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl WaitRun {
    pub(super) fn new(api: RunsApi, run_id: String) -> Self {
        WaitRun {
            api,
            run_id,
            timeout: None,
            interval: (Duration::from_secs(1), Duration::from_secs(30)),
            on_progress: None,
        }
    }

    /// Gives up after this long with [`WaitError::Deadline`](kubeflow_core::wait::WaitError::Deadline)
    /// (default: no deadline).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The first and the largest pause between polls (default 1 s and 30 s).
    pub fn poll_interval(mut self, first: Duration, max: Duration) -> Self {
        self.interval = (first, max);
        self
    }

    /// Calls `f` with each new state (the first observed state included).
    pub fn on_progress(mut self, f: impl FnMut(&RuntimeState) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    fn build(self) -> wait::Wait<Run, RuntimeState> {
        let api = self.api;
        let id = self.run_id;
        let fetch_id = id.clone();
        let missing_id = id.clone();
        let mut w = wait::poll(
            format!("run {id} to finish"),
            move || {
                let api = api.clone();
                let id = fetch_id.clone();
                async move { api.get(&id).await }
            },
            move |run: Option<&Run>| match run {
                None => Check::Failed(
                    RuntimeState::Unknown("NOT_FOUND".into()),
                    format!("run {missing_id} does not exist"),
                ),
                Some(r) if r.is_finished() => Check::Done(r.state()),
                Some(r) => Check::Pending(r.state()),
            },
        )
        .poll_interval(self.interval.0, self.interval.1);
        if let Some(t) = self.timeout {
            w = w.timeout(t);
        }
        if let Some(f) = self.on_progress {
            w = w.on_progress(f);
        }
        w
    }

    /// The state changes as a stream: `WaitEvent::Progress(state)` for each new state, then
    /// `WaitEvent::Done(Some(run))` as the last item (or an error).
    pub fn stream(
        self,
    ) -> futures::stream::BoxStream<'static, Result<WaitEvent<RuntimeState, Run>>> {
        self.build()
            .stream()
            .map(|item| item.map_err(kubeflow_core::Error::from))
            .boxed()
    }

    async fn run(self) -> Result<Run> {
        let id = self.run_id.clone();
        match self.build().await? {
            Some(run) => Ok(run),
            None => Err(kubeflow_core::Error::invalid_argument(
                "run_id",
                format!("run {id} does not exist"),
            )),
        }
    }
}

impl IntoFuture for WaitRun {
    type Output = Result<Run>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
