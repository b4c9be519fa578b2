//! Waiting until a condition holds, with a deadline and observable progress.
//!
//! One helper, [`Wait`], serves every "wait until …" of the SDK: a KFP run finishing, a Katib
//! Experiment succeeding, an InferenceService or a Notebook becoming Ready. It observes an
//! object over time and asks a *condition* what each observation means ([`Check`]):
//!
//! - [`object`] watches one Kubernetes object by name (a custom resource or any other kind),
//!   with `kube`'s watcher, so changes are seen as they happen;
//! - [`poll`] calls an async closure (a REST `GET`) again and again, with jittered exponential
//!   backoff between calls;
//! - [`from_stream`] takes any stream of observations (useful in tests and for custom sources).
//!
//! The condition maps an observation to a progress *state* `S` (any `PartialEq + Clone + Debug`,
//! e.g. a phase string, or a `(succeeded, total)` pair) and a verdict: pending, done, or failed
//! (stop now, with a message). Progress is reported only when the state changes, either to an
//! [`on_progress`](Wait::on_progress) callback or as a [`Stream`] of [`WaitEvent`]s
//! ([`Wait::stream`]), so programs can draw a progress bar.
//!
//! ```no_run
//! # async fn demo(client: kube::Client) -> Result<(), kubeflow_core::wait::WaitError> {
//! use std::time::Duration;
//! use k8s_openapi::api::core::v1::Pod;
//! use kubeflow_core::wait::{self, Check};
//!
//! let pods: kube::Api<Pod> = kube::Api::namespaced(client, "kubeflow");
//! let pod = wait::object(pods, "ml-pipeline-0", |pod: Option<&Pod>| {
//!     let phase = pod
//!         .and_then(|p| p.status.as_ref())
//!         .and_then(|s| s.phase.clone())
//!         .unwrap_or_else(|| "Unknown".into());
//!     match phase.as_str() {
//!         "Running" => Check::Done(phase),
//!         "Failed" => Check::Failed(phase, "the pod failed".into()),
//!         _ => Check::Pending(phase),
//!     }
//! })
//! .timeout(Duration::from_secs(120))
//! .on_progress(|phase| println!("pod is {phase}"))
//! .await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use futures::stream::{self, BoxStream, Stream, StreamExt};
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use serde::de::DeserializeOwned;

use crate::error::BoxError;

/// Errors while waiting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The deadline passed before the condition held.
    #[error("gave up waiting for {what} after {after:?}; last observed state: {}", last_state.as_deref().unwrap_or("nothing observed yet"))]
    Deadline {
        /// What we waited for.
        what: String,
        /// The deadline.
        after: Duration,
        /// The last state observed (`Debug` of the condition's state), if any.
        last_state: Option<String>,
    },

    /// The object was deleted (or no longer found) while we waited for it.
    #[error("{what}: the object was deleted while waiting; last observed state: {}", last_state.as_deref().unwrap_or("none"))]
    Gone {
        /// What we waited for.
        what: String,
        /// The last state observed before it went away.
        last_state: Option<String>,
    },

    /// The condition said it will never hold.
    #[error("{what} failed: {message} (state: {state})")]
    Failed {
        /// What we waited for.
        what: String,
        /// The condition's message.
        message: String,
        /// The state at that moment (`Debug` of the condition's state).
        state: String,
    },

    /// Observing the object failed (a watch that cannot be started, a poll that failed).
    #[error("{what}: {source}")]
    Source {
        /// What we waited for.
        what: String,
        /// The error.
        #[source]
        source: BoxError,
    },

    /// The observations ended (the source stream finished) before the condition held.
    #[error("{what}: the observations ended before the condition held; last observed state: {}", last_state.as_deref().unwrap_or("none"))]
    Ended {
        /// What we waited for.
        what: String,
        /// The last state observed.
        last_state: Option<String>,
    },
}

impl WaitError {
    /// The description of what was awaited.
    pub fn what(&self) -> &str {
        match self {
            WaitError::Deadline { what, .. }
            | WaitError::Gone { what, .. }
            | WaitError::Failed { what, .. }
            | WaitError::Source { what, .. }
            | WaitError::Ended { what, .. } => what,
        }
    }
}

/// What a condition says about one observation, carrying the progress state `S`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check<S> {
    /// Not there yet.
    Pending(S),
    /// The condition holds: stop waiting, successfully.
    Done(S),
    /// The condition will never hold: stop waiting with this message.
    Failed(S, String),
}

impl<S> Check<S> {
    /// The progress state.
    pub fn state(&self) -> &S {
        match self {
            Check::Pending(s) | Check::Done(s) | Check::Failed(s, _) => s,
        }
    }

    /// True for [`Check::Done`].
    pub fn is_done(&self) -> bool {
        matches!(self, Check::Done(_))
    }
}

impl From<bool> for Check<bool> {
    /// `true` is done, `false` pending; the state is the boolean itself.
    fn from(done: bool) -> Self {
        if done {
            Check::Done(true)
        } else {
            Check::Pending(false)
        }
    }
}

/// One item of [`Wait::stream`].
#[derive(Debug, Clone, PartialEq)]
pub enum WaitEvent<S, T> {
    /// The state changed (never sent twice in a row with the same state).
    Progress(S),
    /// The condition holds; the object that satisfied it (`None` when the condition accepted a
    /// missing object, e.g. when waiting for a deletion). Always the last item.
    Done(Option<T>),
}

type Observations<T> = BoxStream<'static, Result<Option<T>, WaitError>>;
type Condition<T, S> = Box<dyn Fn(Option<&T>) -> Check<S> + Send + Sync>;
type ProgressFn<S> = Box<dyn FnMut(&S) + Send>;
type Fetch<T> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = crate::Result<T>> + Send>> + Send>;

enum Source<T> {
    Stream(Observations<T>),
    Poll(Fetch<T>),
}

/// A wait being set up; `.await` it (or call [`stream`](Wait::stream)).
///
/// Built by [`object`], [`poll`] or [`from_stream`]. Awaiting gives the object that satisfied
/// the condition (`None` only when the condition accepted a missing object).
#[must_use = "a wait does nothing until it is awaited or streamed"]
pub struct Wait<T, S> {
    what: String,
    source: Source<T>,
    condition: Condition<T, S>,
    timeout: Option<Duration>,
    on_progress: Option<ProgressFn<S>>,
    poll_interval: (Duration, Duration),
}

impl<T, S> fmt::Debug for Wait<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("what", &self.what)
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

/// Waits on one Kubernetes object, watched by name (`metadata.name=<name>` field selector).
///
/// The condition sees `None` while the object does not exist. If it answers
/// [`Check::Pending`] for a missing object that was seen before, the wait ends with
/// [`WaitError::Gone`]; to wait for a deletion, answer [`Check::Done`] for `None`.
/// Transient watch errors are retried with kube's default backoff; a watch that cannot start
/// because of 401/403/404 (no permission, CRD not installed) fails with [`WaitError::Source`].
pub fn object<K, S, F>(api: Api<K>, name: &str, condition: F) -> Wait<K, S>
where
    K: kube::Resource + Clone + DeserializeOwned + fmt::Debug + Send + 'static,
    K::DynamicType: Default,
    F: Fn(Option<&K>) -> Check<S> + Send + Sync + 'static,
{
    let kind = K::kind(&K::DynamicType::default()).into_owned();
    let what = format!("{kind} {name}");
    let what_for_errors = what.clone();
    let observations = watcher::watch_object(api, name)
        .default_backoff()
        .filter_map(move |item| {
            let out = match item {
                Ok(obj) => Some(Ok(obj)),
                Err(e) if watch_error_is_fatal(&e) => Some(Err(WaitError::Source {
                    what: what_for_errors.clone(),
                    source: Box::new(e),
                })),
                Err(e) => {
                    tracing::debug!(what = %what_for_errors, error = %e, "wait: watch error, retrying");
                    None
                }
            };
            futures::future::ready(out)
        })
        .boxed();
    Wait::new(what, Source::Stream(observations), Box::new(condition))
}

fn watch_error_is_fatal(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s)) => {
            matches!(s.code, 401 | 403 | 404)
        }
        _ => false,
    }
}

/// Waits by polling: `fetch` is called at once, then again after a jittered exponential
/// backoff (see [`Wait::poll_interval`]) until the condition holds. A `fetch` error that
/// [is "not found"](crate::Error::is_not_found) counts as a missing object; any other error
/// ends the wait with [`WaitError::Source`] (the HTTP layer has already retried it).
pub fn poll<T, S, Fut, G, F>(what: impl Into<String>, mut fetch: G, condition: F) -> Wait<T, S>
where
    T: Send + 'static,
    Fut: Future<Output = crate::Result<T>> + Send + 'static,
    G: FnMut() -> Fut + Send + 'static,
    F: Fn(Option<&T>) -> Check<S> + Send + Sync + 'static,
{
    Wait::new(
        what.into(),
        Source::Poll(Box::new(move || Box::pin(fetch()))),
        Box::new(condition),
    )
}

/// Waits on any stream of observations (`Ok(None)`: the object does not exist). An `Err`
/// ends the wait with [`WaitError::Source`]; the end of the stream with [`WaitError::Ended`].
pub fn from_stream<T, S, St, E, F>(
    what: impl Into<String>,
    observations: St,
    condition: F,
) -> Wait<T, S>
where
    T: Send + 'static,
    St: Stream<Item = Result<Option<T>, E>> + Send + 'static,
    E: Into<BoxError>,
    F: Fn(Option<&T>) -> Check<S> + Send + Sync + 'static,
{
    let what = what.into();
    let w = what.clone();
    let observations = observations
        .map(move |item| {
            item.map_err(|e| WaitError::Source {
                what: w.clone(),
                source: e.into(),
            })
        })
        .boxed();
    Wait::new(what, Source::Stream(observations), Box::new(condition))
}

impl<T, S> Wait<T, S> {
    fn new(what: String, source: Source<T>, condition: Condition<T, S>) -> Self {
        Wait {
            what,
            source,
            condition,
            timeout: None,
            on_progress: None,
            poll_interval: (Duration::from_millis(500), Duration::from_secs(10)),
        }
    }

    /// Describes what is awaited, for errors and logs (e.g. `"run 1234 to finish"`). The
    /// default names the kind and the object ([`object`]) or is what was given.
    pub fn what(mut self, what: impl Into<String>) -> Self {
        self.what = what.into();
        self
    }

    /// Gives up with [`WaitError::Deadline`] after this long (default: no deadline).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Calls `f` with each new state (only when the state changed), when awaited.
    pub fn on_progress(mut self, f: impl FnMut(&S) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(f));
        self
    }

    /// For [`poll`]: the first and the largest pause between calls (default 500 ms and 10 s;
    /// each pause grows by half and is jittered by ±20 %).
    pub fn poll_interval(mut self, first: Duration, max: Duration) -> Self {
        self.poll_interval = (first, max.max(first));
        self
    }
}

impl<T, S> Wait<T, S>
where
    T: Send + 'static,
    S: PartialEq + Clone + fmt::Debug + Send + 'static,
{
    /// The wait as a stream: a [`WaitEvent::Progress`] for each change of state, then
    /// [`WaitEvent::Done`] (or an error) as the last item. An `on_progress` callback, if set,
    /// is also called.
    pub fn stream(self) -> impl Stream<Item = Result<WaitEvent<S, T>, WaitError>> + Send + 'static {
        let Wait {
            what,
            source,
            condition,
            timeout,
            mut on_progress,
            poll_interval,
        } = self;
        let observations = match source {
            Source::Stream(s) => s,
            Source::Poll(fetch) => poll_stream(what.clone(), fetch, poll_interval),
        };
        let engine = Engine {
            deadline: timeout.map(|t| tokio::time::Instant::now() + t),
            timeout,
            what,
            observations,
            condition,
            last: None,
            seen: false,
            finished: false,
            queued: None,
        };
        stream::unfold(engine, |mut engine| async move {
            let item = engine.next().await?;
            Some((item, engine))
        })
        .inspect(move |item| {
            if let (Ok(WaitEvent::Progress(s)), Some(f)) = (item, on_progress.as_mut()) {
                f(s);
            }
        })
    }

    async fn run(self) -> Result<Option<T>, WaitError> {
        let what = self.what.clone();
        let mut stream = std::pin::pin!(self.stream());
        let mut last = None;
        while let Some(item) = stream.next().await {
            match item? {
                WaitEvent::Progress(s) => last = Some(s),
                WaitEvent::Done(obj) => return Ok(obj),
            }
        }
        Err(WaitError::Ended {
            what,
            last_state: last.map(|s| format!("{s:?}")),
        })
    }
}

impl<T, S> IntoFuture for Wait<T, S>
where
    T: Send + 'static,
    S: PartialEq + Clone + fmt::Debug + Send + 'static,
{
    type Output = Result<Option<T>, WaitError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

fn poll_stream<T: Send + 'static>(
    what: String,
    fetch: Fetch<T>,
    (first, max): (Duration, Duration),
) -> Observations<T> {
    stream::unfold((fetch, None::<Duration>), move |(mut fetch, pause)| {
        let what = what.clone();
        async move {
            let next_pause = match pause {
                None => first,
                Some(p) => {
                    tokio::time::sleep(jitter(p)).await;
                    p.mul_f64(1.5).min(max)
                }
            };
            let item = match fetch().await {
                Ok(t) => Ok(Some(t)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(WaitError::Source {
                    what,
                    source: Box::new(e),
                }),
            };
            Some((item, (fetch, Some(next_pause))))
        }
    })
    .boxed()
}

/// ±20 % jitter.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.8 + fastrand::f64() * 0.4)
}

struct Engine<T, S> {
    what: String,
    observations: Observations<T>,
    condition: Condition<T, S>,
    deadline: Option<tokio::time::Instant>,
    timeout: Option<Duration>,
    last: Option<S>,
    seen: bool,
    finished: bool,
    queued: Option<Result<WaitEvent<S, T>, WaitError>>,
}

impl<T, S: PartialEq + Clone + fmt::Debug> Engine<T, S> {
    fn last_state(&self) -> Option<String> {
        self.last.as_ref().map(|s| format!("{s:?}"))
    }

    fn deadline_error(&self) -> WaitError {
        WaitError::Deadline {
            what: self.what.clone(),
            after: self.timeout.unwrap_or_default(),
            last_state: self.last_state(),
        }
    }

    fn finish(
        &mut self,
        item: Result<WaitEvent<S, T>, WaitError>,
    ) -> Option<Result<WaitEvent<S, T>, WaitError>> {
        self.finished = true;
        Some(item)
    }

    async fn next(&mut self) -> Option<Result<WaitEvent<S, T>, WaitError>> {
        if self.finished {
            return None;
        }
        if let Some(item) = self.queued.take() {
            return self.finish(item);
        }
        loop {
            // Checked on every turn too, so that a source that is always ready cannot starve
            // the timer below.
            if self
                .deadline
                .is_some_and(|d| tokio::time::Instant::now() >= d)
            {
                return self.finish(Err(self.deadline_error()));
            }
            let observed = match self.deadline {
                Some(deadline) => tokio::select! {
                    biased;
                    o = self.observations.next() => o,
                    () = tokio::time::sleep_until(deadline) => {
                        return self.finish(Err(self.deadline_error()));
                    }
                },
                None => self.observations.next().await,
            };
            let obj = match observed {
                None => {
                    let err = WaitError::Ended {
                        what: self.what.clone(),
                        last_state: self.last_state(),
                    };
                    return self.finish(Err(err));
                }
                Some(Err(e)) => return self.finish(Err(e)),
                Some(Ok(obj)) => obj,
            };
            let check = (self.condition)(obj.as_ref());
            let seen_before = self.seen;
            self.seen |= obj.is_some();
            let previous_state = self.last_state();
            let changed = self.last.as_ref() != Some(check.state());
            if changed {
                self.last = Some(check.state().clone());
            }
            let missing = obj.is_none();
            let verdict = match check {
                Check::Done(_) => Some(Ok(WaitEvent::Done(obj))),
                Check::Failed(s, message) => Some(Err(WaitError::Failed {
                    what: self.what.clone(),
                    message,
                    state: format!("{s:?}"),
                })),
                Check::Pending(_) if missing && seen_before => Some(Err(WaitError::Gone {
                    what: self.what.clone(),
                    last_state: previous_state,
                })),
                Check::Pending(_) => None,
            };
            if changed {
                self.queued = verdict;
                if let Some(state) = self.last.clone() {
                    return Some(Ok(WaitEvent::Progress(state)));
                }
            } else if let Some(item) = verdict {
                return self.finish(item);
            }
        }
    }
}
