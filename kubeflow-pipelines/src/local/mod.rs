//! The local runner: runs a compiled pipeline on this machine, without a cluster.
//!
//! Any [`PipelineSpec`] runs — authored with the [`dsl`](crate::dsl) or read from YAML the
//! official compiler wrote:
//!
//! - **Container components** run as local subprocesses: their `command` and `args`, every
//!   placeholder resolved. **The image is not pulled**: the command must exist on this machine
//!   (`sh`, `python3`, your own tools), and a missing one is a clear error naming it.
//! - **Lightweight Python components** (a function the Python SDK compiled into the component)
//!   run with a local Python that has the `kfp` package (`KUBEFLOW_LOCAL_PYTHON`,
//!   [`LocalRunner::python`], else `python3`), as `kfp.local`'s `SubprocessRunner` does, with no
//!   pip install (so offline). Without such a Python the run does not start and says why.
//! - **Importers** of local paths; remote URIs (`gs://`, `s3://`, ...) through a local copy
//!   given with [`LocalRunner::artifact_source`] (nothing is downloaded).
//! - **Control flow**: the DAG is scheduled as dependencies finish, at most
//!   [`parallelism`](LocalRunner::parallelism) subprocesses at once; conditions (if / elif /
//!   else, evaluated from the compiled CEL); `ParallelFor` over lists and artifact lists, with
//!   their parallelism limit and the fan-in of collected outputs; exit handlers; nested DAGs;
//!   `OneOf` outputs.
//! - **Robustness**: retries with the task's backoff policy; per-task timeouts (kfp-kubernetes
//!   `set_timeout`, or [`LocalRunner::task_timeout`]); cancellation
//!   ([`LocalRun::cancel_on_ctrl_c`] or a [`CancellationToken`]) stops every running
//!   subprocess and what it started (its process group); fail-fast like KFP on Argo. (Tokio's
//!   Ctrl-C handler, once installed, stays for the life of the process: a program using
//!   `cancel_on_ctrl_c` ends itself after the run.)
//! - **Caching** (opt-in, [`LocalRunner::caching`]): keyed by the component and its inputs —
//!   including the *content* of input artifacts — for tasks whose caching is enabled.
//! - **Results**: one folder per run under the pipeline root (`./local_outputs` by default, as
//!   `kfp.local`) with each task's executor input, outputs, artifacts and log, and a
//!   [`RunRecord`] (`run.json`) of every task's state, timing, command, log and outputs;
//!   [`RunEvent`]s for a live progress display.
//!
//! What a local machine cannot give is refused before anything runs, naming the task and the
//! feature: volumes (PVC mounts, PVC creation, secret or config-map volumes), resolvers,
//! containerized Python components. Secrets and config maps read into environment variables
//! work when the runner is given their values ([`LocalRunner::secret`]). Settings with no
//! local meaning (CPU, memory, accelerators, node selectors, tolerations) are noted in the task
//! record.
//!
//! ```no_run
//! use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline, Placeholder};
//! use kubeflow_pipelines::local::LocalRunner;
//! use kubeflow_pipelines::spec::ParameterType;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let hello = ContainerComponent::new("hello", "alpine")
//!     .input("name", ParameterType::String)
//!     .output("greeting", ParameterType::String)
//!     .command(["sh", "-c", "printf 'hello %s' \"$0\" > \"$1\""])
//!     .args([Placeholder::input("name"), Placeholder::output_file("greeting")]);
//! let mut pipeline = Pipeline::new("hello");
//! let name = pipeline.parameter_with_default("name", ParameterType::String, "world");
//! let task = pipeline.add(hello.task().arg("name", &name));
//! pipeline.output("greeting", task.output("greeting"));
//!
//! let record = LocalRunner::new()
//!     .run(&pipeline.compile_package()?)
//!     .arg("name", "Kubeflow")
//!     .on_event(|event| eprintln!("{event}"))
//!     .cancel_on_ctrl_c()
//!     .await?;
//! assert_eq!(record.output("greeting"), Some(&"hello Kubeflow".into()));
//! # Ok(()) }
//! ```

mod cache;
mod cel;
mod engine;
mod error;
mod executor;
mod placeholder;
mod preflight;
mod process;
mod python;
mod record;
mod value;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;
use tokio::sync::Semaphore;

pub use error::LocalError;
pub use python::PYTHON_ENV;
pub use record::{
    LocalArtifact, RECORD_FILE, RunEvent, RunRecord, RunState, TaskKind, TaskRecord, TaskState,
    Values,
};
/// Cancels a run from elsewhere (see [`LocalRun::cancel_token`]).
pub use tokio_util::sync::CancellationToken;

use crate::spec::{CompiledPipeline, PipelineSpec, PlatformSpec};

/// A callback receiving [`RunEvent`]s.
pub(crate) type EventSink = Arc<dyn Fn(&RunEvent) + Send + Sync>;

/// Runs pipelines on this machine. Cheap to clone; one runner can run many pipelines, also at
/// the same time.
#[derive(Clone)]
pub struct LocalRunner {
    pipeline_root: PathBuf,
    parallelism: usize,
    caching: bool,
    cache_root: Option<PathBuf>,
    python: Option<PathBuf>,
    working_dir: Option<PathBuf>,
    env: Vec<(String, String)>,
    task_timeout: Option<Duration>,
    stream_logs: bool,
    secrets: BTreeMap<String, BTreeMap<String, String>>,
    config_maps: BTreeMap<String, BTreeMap<String, String>>,
    artifact_sources: Vec<(String, PathBuf)>,
}

impl fmt::Debug for LocalRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secret values and environment values never show: only names.
        f.debug_struct("LocalRunner")
            .field("pipeline_root", &self.pipeline_root)
            .field("parallelism", &self.parallelism)
            .field("caching", &self.caching)
            .field("cache_root", &self.cache_root)
            .field("python", &self.python)
            .field("working_dir", &self.working_dir)
            .field(
                "env",
                &self.env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            )
            .field("task_timeout", &self.task_timeout)
            .field("stream_logs", &self.stream_logs)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("config_maps", &self.config_maps.keys().collect::<Vec<_>>())
            .field("artifact_sources", &self.artifact_sources)
            .finish()
    }
}

impl Default for LocalRunner {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalRunner {
    /// A runner writing under `./local_outputs`, running as many tasks at once as this machine
    /// has cores, without caching.
    pub fn new() -> Self {
        Self {
            pipeline_root: PathBuf::from("local_outputs"),
            parallelism: std::thread::available_parallelism().map_or(1, usize::from),
            caching: false,
            cache_root: None,
            python: None,
            working_dir: None,
            env: Vec::new(),
            task_timeout: None,
            stream_logs: false,
            secrets: BTreeMap::new(),
            config_maps: BTreeMap::new(),
            artifact_sources: Vec::new(),
        }
    }

    /// Where runs are written: one folder per run (default `./local_outputs`).
    pub fn pipeline_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.pipeline_root = dir.into();
        self
    }

    /// How many task subprocesses run at once (at least 1; default: the number of cores).
    pub fn parallelism(mut self, tasks: usize) -> Self {
        self.parallelism = tasks.max(1);
        self
    }

    /// Reuses the outputs of an earlier identical task (same component, same inputs, same input
    /// artifact contents) for tasks whose caching is enabled in the spec. Off by default.
    pub fn caching(mut self, enabled: bool) -> Self {
        self.caching = enabled;
        self
    }

    /// Where the cache lives (default: `.cache` under the pipeline root).
    pub fn cache_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_root = Some(dir.into());
        self
    }

    /// The Python interpreter (with the `kfp` package) for lightweight Python components
    /// (default: `KUBEFLOW_LOCAL_PYTHON`, else `python3`).
    pub fn python(mut self, interpreter: impl Into<PathBuf>) -> Self {
        self.python = Some(interpreter.into());
        self
    }

    /// The working directory of task commands (default: this process's).
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// An environment variable for every task (tasks also inherit this process's environment).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// A timeout for every task attempt that has none of its own (kfp-kubernetes `set_timeout`).
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// Sends every line tasks print as [`RunEvent::TaskLog`] (logs always go to each task's
    /// `task.log`).
    pub fn stream_logs(mut self, enabled: bool) -> Self {
        self.stream_logs = enabled;
        self
    }

    /// The data of a Kubernetes secret that tasks read into environment variables
    /// (kfp-kubernetes `use_secret_as_env`). Values never appear in logs, records or `Debug`.
    pub fn secret<K: Into<String>, V: Into<String>>(
        mut self,
        name: impl Into<String>,
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.secrets.insert(
            name.into(),
            data.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// The data of a config map that tasks read into environment variables
    /// (kfp-kubernetes `use_config_map_as_env`).
    pub fn config_map<K: Into<String>, V: Into<String>>(
        mut self,
        name: impl Into<String>,
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.config_maps.insert(
            name.into(),
            data.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// A local copy of remote artifacts: an importer of a URI starting with `prefix` (e.g.
    /// `gs://my-bucket/datasets/`) gives the file at the same relative path under `local_dir`
    /// instead. The runner downloads nothing: without a matching source, importing a remote URI
    /// fails the task, naming the URI.
    pub fn artifact_source(
        mut self,
        prefix: impl Into<String>,
        local_dir: impl Into<PathBuf>,
    ) -> Self {
        self.artifact_sources
            .push((prefix.into(), local_dir.into()));
        self
    }

    /// Prepares a run of a compiled package (pipeline spec and its kfp-kubernetes platform
    /// spec). Await it (or call [`LocalRun::send`]) to run.
    pub fn run<'a>(&'a self, pipeline: &'a CompiledPipeline) -> LocalRun<'a> {
        LocalRun::new(
            self,
            &pipeline.pipeline_spec,
            pipeline.platform_spec.as_ref(),
        )
    }

    /// Prepares a run of a pipeline spec without platform configuration.
    pub fn run_spec<'a>(&'a self, spec: &'a PipelineSpec) -> LocalRun<'a> {
        LocalRun::new(self, spec, None)
    }
}

/// One run being prepared: arguments, progress callback, cancellation. Await it to run; it
/// resolves to the [`RunRecord`] when every task succeeded (or was skipped or cached).
///
/// # Errors
/// Before anything runs: [`LocalError::InvalidPipeline`], [`LocalError::InvalidArgument`],
/// [`LocalError::Unsupported`], [`LocalError::PythonUnavailable`], [`LocalError::Io`]. After:
/// [`LocalError::RunFailed`] (its message names the failed task, its exit code and the last
/// lines of its log) or [`LocalError::Cancelled`], both holding the record.
#[must_use = "a LocalRun does nothing until it is awaited"]
pub struct LocalRun<'a> {
    runner: &'a LocalRunner,
    spec: &'a PipelineSpec,
    platform: Option<&'a PlatformSpec>,
    args: BTreeMap<String, Value>,
    artifacts: BTreeMap<String, LocalArtifact>,
    events: Option<EventSink>,
    cancel: CancellationToken,
    ctrl_c: bool,
}

impl fmt::Debug for LocalRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRun")
            .field("pipeline", &self.spec.name())
            // Names only: an argument may be a credential.
            .field("args", &self.args.keys().collect::<Vec<_>>())
            .field("artifacts", &self.artifacts.keys().collect::<Vec<_>>())
            .field("ctrl_c", &self.ctrl_c)
            .finish_non_exhaustive()
    }
}

impl<'a> LocalRun<'a> {
    fn new(
        runner: &'a LocalRunner,
        spec: &'a PipelineSpec,
        platform: Option<&'a PlatformSpec>,
    ) -> Self {
        Self {
            runner,
            spec,
            platform,
            args: BTreeMap::new(),
            artifacts: BTreeMap::new(),
            events: None,
            cancel: CancellationToken::new(),
            ctrl_c: false,
        }
    }

    /// A pipeline argument (parameters without one take their default).
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.args.insert(name.into(), value.into());
        self
    }

    /// Several pipeline arguments.
    pub fn args<K: Into<String>, V: Into<Value>>(
        mut self,
        args: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.args
            .extend(args.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// A local file or folder as a pipeline input artifact.
    pub fn artifact_arg(mut self, name: impl Into<String>, path: impl AsRef<Path>) -> Self {
        let name = name.into();
        let path = absolute(path.as_ref());
        self.artifacts.insert(
            name.clone(),
            LocalArtifact {
                name,
                uri: path.display().to_string(),
                schema_title: "system.Artifact".into(),
                schema_version: None,
                metadata: serde_json::Map::new(),
            },
        );
        self
    }

    /// Calls `callback` with each [`RunEvent`] as the run goes (from the task that awaits the
    /// run; keep it quick).
    pub fn on_event(mut self, callback: impl Fn(&RunEvent) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(callback));
        self
    }

    /// Cancels the run when `token` is cancelled: running tasks are stopped (SIGTERM to their
    /// process group, SIGKILL 3 s later) and nothing new starts.
    pub fn cancel_token(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// Cancels the run on Ctrl-C (SIGINT).
    pub fn cancel_on_ctrl_c(mut self) -> Self {
        self.ctrl_c = true;
        self
    }

    /// Runs the pipeline to its end (what awaiting the `LocalRun` does).
    ///
    /// # Errors
    /// See [`LocalRun`].
    pub async fn send(self) -> Result<RunRecord, LocalError> {
        let runner = self.runner;
        let spec = self.spec;
        let platform = preflight::kubernetes_executors(self.platform);
        let secrets: BTreeSet<String> = runner.secrets.keys().cloned().collect();
        let config_maps: BTreeSet<String> = runner.config_maps.keys().cloned().collect();
        let needs = preflight::check(spec, &platform, &secrets, &config_maps)?;
        let arguments = preflight::arguments(spec, self.args, self.artifacts)?;
        let python = python::interpreter(runner.python.as_deref());
        let python_kfp = match &needs.python_task {
            Some(task) => Some(python::kfp_version(&python).await.map_err(|reason| {
                LocalError::PythonUnavailable {
                    task: task.clone(),
                    python: python.display().to_string(),
                    reason,
                }
            })?),
            None => None,
        };

        let pipeline_root = absolute(&runner.pipeline_root);
        let pipeline = spec.name().unwrap_or("pipeline").to_owned();
        let started_at = Utc::now();
        let (run_id, run_dir) = create_run_dir(&pipeline_root, &pipeline, started_at)?;
        let workspace = match self
            .platform
            .and_then(|p| p.platforms.get("kubernetes"))
            .and_then(|k| k.pipeline_config.as_ref())
            .and_then(|c| c.workspace.as_ref())
        {
            Some(_) => {
                let dir = run_dir.join("workspace");
                std::fs::create_dir_all(&dir).map_err(|source| LocalError::Io {
                    action: "create the workspace",
                    path: dir.clone(),
                    source,
                })?;
                Some(dir)
            }
            None => None,
        };
        let mut record = RunRecord {
            run_id: run_id.clone(),
            pipeline,
            dir: run_dir.clone(),
            state: RunState::Running,
            started_at,
            finished_at: None,
            arguments: arguments.clone(),
            outputs: Values::default(),
            tasks: Vec::new(),
            error: None,
        };
        write_record(&record)?;
        let ctx = engine::Ctx {
            runner,
            spec,
            platform,
            run_id: run_id.clone(),
            run_dir: run_dir.clone(),
            cache_root: runner
                .cache_root
                .as_deref()
                .map_or_else(|| pipeline_root.join(".cache"), absolute),
            pipeline_root,
            create_time: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            workspace,
            python,
            python_kfp,
            slots: Semaphore::new(runner.parallelism),
            cancel: self.cancel.clone(),
            events: self.events.clone(),
            records: Mutex::new(Vec::new()),
            failed: AtomicBool::new(false),
            checkpoint: Mutex::new((record.clone(), Instant::now())),
        };
        ctx.emit(RunEvent::RunStarted {
            run_id,
            dir: run_dir,
        });
        let clock = Instant::now();

        let run = engine::run_root(&ctx, arguments);
        tokio::pin!(run);
        let outcome = if self.ctrl_c {
            let mut interrupted = false;
            loop {
                tokio::select! {
                    outcome = &mut run => break outcome,
                    signal = tokio::signal::ctrl_c(), if !interrupted => {
                        interrupted = true;
                        if signal.is_ok() {
                            ctx.emit(RunEvent::Warning {
                                task: None,
                                message: "interrupted: stopping the running tasks".into(),
                            });
                            ctx.cancel.cancel();
                        }
                    }
                }
            }
        } else {
            run.await
        };

        record.state = if ctx.cancel.is_cancelled() {
            RunState::Cancelled
        } else if outcome.state.is_ok() {
            RunState::Succeeded
        } else {
            RunState::Failed
        };
        record.finished_at = Some(Utc::now());
        record.outputs = outcome.outputs;
        record.error = outcome.error;
        record.tasks = ctx
            .records
            .lock()
            .map(|records| records.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        write_record(&record)?;
        ctx.emit(RunEvent::RunFinished {
            state: record.state,
            duration: clock.elapsed(),
        });
        match record.state {
            RunState::Succeeded => Ok(record),
            RunState::Cancelled => Err(LocalError::Cancelled(Box::new(record))),
            _ => Err(LocalError::RunFailed(Box::new(record))),
        }
    }
}

impl<'a> IntoFuture for LocalRun<'a> {
    type Output = Result<RunRecord, LocalError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// `<root>/<pipeline>-<YYYY-MM-DD-HH-MM-SS-ffffff>` (as `kfp.local` names its runs), with a
/// numeric suffix if two runs start in the same microsecond.
fn create_run_dir(
    root: &Path,
    pipeline: &str,
    started: chrono::DateTime<Utc>,
) -> Result<(String, PathBuf), LocalError> {
    std::fs::create_dir_all(root).map_err(|source| LocalError::Io {
        action: "create the pipeline root",
        path: root.to_owned(),
        source,
    })?;
    let safe: String = pipeline
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base = format!("{safe}-{}", started.format("%Y-%m-%d-%H-%M-%S-%6f"));
    for n in 0..1000 {
        let id = if n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dir = root.join(&id);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(LocalError::Io {
                    action: "create the run folder",
                    path: dir,
                    source,
                });
            }
        }
    }
    Err(LocalError::Io {
        action: "create the run folder",
        path: root.join(base),
        source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "too many runs"),
    })
}

pub(crate) fn write_record(record: &RunRecord) -> Result<(), LocalError> {
    let path = record.dir.join(RECORD_FILE);
    let tmp = record.dir.join(format!(".{RECORD_FILE}.tmp"));
    let io = |source| LocalError::Io {
        action: "write the run record",
        path: path.clone(),
        source,
    };
    let text = serde_json::to_vec_pretty(record).map_err(|err| io(std::io::Error::other(err)))?;
    std::fs::write(&tmp, text).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}
