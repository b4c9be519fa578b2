//! What a local run leaves behind: the run record (every task's state, timing, log and outputs)
//! and the live progress events.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::LocalError;

/// File name of the run record inside a run's folder.
pub const RECORD_FILE: &str = "run.json";

/// An artifact as the local runner stores it: its `uri` is a local path (or, for an importer of
/// a remote object, the remote URI, which the runner does not download).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LocalArtifact {
    /// The output (or input) name of the artifact.
    pub name: String,
    /// Where the artifact is: an absolute local path for artifacts written by tasks.
    pub uri: String,
    /// The artifact type, e.g. `system.Dataset`.
    pub schema_title: String,
    /// The artifact type's version, e.g. `0.0.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Metadata written by the task (for `system.Metrics`, the metric values).
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
}

impl LocalArtifact {
    /// The local file or folder of the artifact, when its URI is a local path (or `file://`).
    pub fn path(&self) -> Option<PathBuf> {
        local_path(&self.uri)
    }

    /// The artifact as a `RuntimeArtifact` of the executor input.
    pub(crate) fn to_runtime(&self) -> Value {
        let mut ty = serde_json::Map::new();
        ty.insert(
            "schemaTitle".into(),
            Value::String(self.schema_title.clone()),
        );
        if let Some(version) = &self.schema_version {
            ty.insert("schemaVersion".into(), Value::String(version.clone()));
        }
        serde_json::json!({
            "name": self.name,
            "type": ty,
            "uri": self.uri,
            "metadata": self.metadata,
        })
    }
}

/// The local path behind a URI: plain paths and `file://` URIs are local, `gs://`, `s3://` and
/// other schemes are not.
pub(crate) fn local_path(uri: &str) -> Option<PathBuf> {
    if let Some(rest) = uri.strip_prefix("file://") {
        return Some(PathBuf::from(rest));
    }
    if uri.contains("://") {
        return None;
    }
    Some(PathBuf::from(uri))
}

/// Parameters and artifacts: a task's inputs or outputs, or a pipeline's outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Values {
    /// Parameter values by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// Artifacts by name (a list: one element unless the output is an artifact list, or the
    /// result of a loop).
    #[serde(default)]
    pub artifacts: BTreeMap<String, Vec<LocalArtifact>>,
}

impl Values {
    /// The value of a parameter.
    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.parameters.get(name)
    }

    /// The first artifact of an output.
    pub fn artifact(&self, name: &str) -> Option<&LocalArtifact> {
        self.artifacts.get(name).and_then(|list| list.first())
    }

    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.artifacts.is_empty()
    }
}

/// How a task ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum TaskState {
    /// Started, not finished.
    Running,
    /// Ran and exited 0 (for a DAG: every task in it succeeded or was skipped).
    Succeeded,
    /// Not run: its outputs came from the cache.
    Cached,
    /// Not run: its condition was false (or an input came from a skipped task).
    Skipped,
    /// Ran and failed (after its retries).
    Failed,
    /// Not run because an upstream task failed.
    NotRun,
    /// Stopped or not started because the run was cancelled.
    Cancelled,
}

impl TaskState {
    /// Whether the state counts as success for what depends on it (succeeded, cached, skipped).
    pub fn is_ok(self) -> bool {
        matches!(self, Self::Succeeded | Self::Cached | Self::Skipped)
    }

    /// The name KFP uses for the state (`SUCCEEDED`, `FAILED`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Cached => "CACHED",
            Self::Skipped => "SKIPPED",
            Self::Failed => "FAILED",
            Self::NotRun => "NOT_RUN",
            Self::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Cached => "cached",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
            Self::NotRun => "not run",
            Self::Cancelled => "cancelled",
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum RunState {
    /// Still running (a record read while its run is in progress).
    Running,
    /// Every task succeeded, was cached or was skipped.
    Succeeded,
    /// A task failed.
    Failed,
    /// The run was cancelled.
    Cancelled,
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        })
    }
}

/// What kind of step a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskKind {
    /// A container component, run as a local subprocess.
    Container,
    /// A lightweight Python component, run with the local Python and `kfp`.
    Python,
    /// An importer.
    Importer,
    /// A DAG: a condition branch, a loop iteration's body, an exit-handler group or a nested
    /// pipeline.
    Dag,
    /// A `ParallelFor` loop (its iterations are the tasks below it).
    Loop,
}

/// One task of a run, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRecord {
    /// Where the task is in the pipeline: its name, prefixed by its enclosing DAG tasks, with
    /// the loop iteration in brackets, e.g. `for-loop-2[1]/print-op`.
    pub path: String,
    /// The task's name inside its DAG.
    pub name: String,
    /// The component it runs (`comp-...`).
    pub component: String,
    /// What kind of step it is.
    pub kind: TaskKind,
    /// The image the component names (not pulled: the command runs on this machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// How it ended.
    pub state: TaskState,
    /// How many times it was started (1 unless retried; 0 when it never ran).
    pub attempts: u32,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The exit code of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The command line of the last attempt, placeholders resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// The task's folder (executor input, output files, artifacts, log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Its log (standard output and error, interleaved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<PathBuf>,
    /// The inputs it received.
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    pub inputs: Values,
    /// The outputs it produced.
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    pub outputs: Values,
    /// For a cached task: the task (and run) whose outputs were reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_from: Option<String>,
    /// Why it failed, was skipped or was not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the runner did differently from a cluster (ignored resources, images not pulled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl TaskRecord {
    pub(crate) fn new(path: String, name: String, component: String, kind: TaskKind) -> Self {
        Self {
            path,
            name,
            component,
            kind,
            image: None,
            state: TaskState::Running,
            attempts: 0,
            started_at: None,
            finished_at: None,
            exit_code: None,
            command: Vec::new(),
            dir: None,
            log: None,
            inputs: Values::default(),
            outputs: Values::default(),
            cached_from: None,
            error: None,
            notes: Vec::new(),
        }
    }

    /// How long it ran.
    pub fn duration(&self) -> Option<Duration> {
        let (start, end) = (self.started_at?, self.finished_at?);
        (end - start).to_std().ok()
    }

    /// The last `lines` lines of its log (empty when it has none).
    pub fn log_tail(&self, lines: usize) -> Vec<String> {
        let Some(path) = &self.log else {
            return Vec::new();
        };
        match std::fs::read(path) {
            Ok(bytes) => tail_lines(&String::from_utf8_lossy(&bytes), lines),
            Err(_) => Vec::new(),
        }
    }
}

pub(crate) fn tail_lines(text: &str, lines: usize) -> Vec<String> {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].iter().map(|line| (*line).to_owned()).collect()
}

/// The record of a local run, written to `run.json` in the run's folder as the run goes and
/// readable afterwards with [`RunRecord::load`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunRecord {
    /// The run's identifier (also its folder's name).
    pub run_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// The run's folder under the pipeline root.
    pub dir: PathBuf,
    /// How it ended.
    pub state: RunState,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The pipeline parameters it ran with (defaults applied).
    #[serde(default)]
    pub arguments: Values,
    /// The pipeline's outputs.
    #[serde(default)]
    pub outputs: Values,
    /// Every task, in the order they started.
    #[serde(default)]
    pub tasks: Vec<TaskRecord>,
    /// Why the run failed or was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunRecord {
    /// Reads the record of a run from its folder (or from the `run.json` file itself).
    ///
    /// # Errors
    /// [`LocalError::Record`] when the file cannot be read or is not a run record.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LocalError> {
        let path = path.as_ref();
        let file = if path.is_dir() {
            path.join(RECORD_FILE)
        } else {
            path.to_owned()
        };
        let text = std::fs::read_to_string(&file).map_err(|source| LocalError::Record {
            path: file.clone(),
            message: source.to_string(),
        })?;
        let mut de = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut de).map_err(|err| LocalError::Record {
            path: file.clone(),
            message: format!("at {}: {}", err.path(), err.inner()),
        })
    }

    /// The records of every run under a pipeline root, oldest first. Folders without a readable
    /// record are skipped.
    ///
    /// # Errors
    /// [`LocalError::Io`] when the pipeline root cannot be listed.
    pub fn list(pipeline_root: impl AsRef<Path>) -> Result<Vec<Self>, LocalError> {
        let root = pipeline_root.as_ref();
        let entries = std::fs::read_dir(root).map_err(|source| LocalError::Io {
            action: "list the pipeline root",
            path: root.to_owned(),
            source,
        })?;
        let mut runs: Vec<Self> = entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().join(RECORD_FILE).is_file())
            .filter_map(|entry| Self::load(entry.path()).ok())
            .collect();
        runs.sort_by_key(|run| run.started_at);
        Ok(runs)
    }

    /// How long the run took.
    pub fn duration(&self) -> Option<Duration> {
        (self.finished_at? - self.started_at).to_std().ok()
    }

    /// A task by its path (`train`, `for-loop-2[0]/print-op`).
    pub fn task(&self, path: &str) -> Option<&TaskRecord> {
        self.tasks.iter().find(|task| task.path == path)
    }

    /// The tasks whose name (inside their DAG) is `name`: one per loop iteration for a task in a
    /// loop.
    pub fn tasks_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a TaskRecord> + 'a {
        self.tasks.iter().filter(move |task| task.name == name)
    }

    /// The tasks that failed.
    pub fn failed_tasks(&self) -> impl Iterator<Item = &TaskRecord> {
        self.tasks
            .iter()
            .filter(|task| task.state == TaskState::Failed)
    }

    /// How many tasks ended in `state`.
    pub fn count(&self, state: TaskState) -> usize {
        self.tasks.iter().filter(|task| task.state == state).count()
    }

    /// A pipeline output parameter.
    pub fn output(&self, name: &str) -> Option<&Value> {
        self.outputs.parameters.get(name)
    }

    /// A pipeline output artifact (the first, when it is a list).
    pub fn output_artifact(&self, name: &str) -> Option<&LocalArtifact> {
        self.outputs.artifact(name)
    }
}

/// Live progress of a run, for a progress display (see `LocalRun::on_event`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RunEvent {
    /// The run started.
    RunStarted {
        /// Its identifier.
        run_id: String,
        /// Its folder.
        dir: PathBuf,
    },
    /// A task started (or a loop or DAG began).
    TaskStarted {
        /// Its path.
        task: String,
        /// What kind of step it is.
        kind: TaskKind,
        /// The attempt (1 for the first).
        attempt: u32,
    },
    /// A line a task printed (standard output or error); only when logs are streamed
    /// (`LocalRunner::stream_logs`).
    TaskLog {
        /// The task's path.
        task: String,
        /// The line, without its newline.
        line: String,
    },
    /// A task failed and will be retried.
    TaskRetrying {
        /// Its path.
        task: String,
        /// The attempt that failed.
        attempt: u32,
        /// Why it failed.
        error: String,
        /// How long the runner waits before the next attempt.
        delay: Duration,
    },
    /// A task ended (succeeded, cached, skipped, failed, not run or cancelled).
    TaskFinished {
        /// Its path.
        task: String,
        /// What kind of step it is.
        kind: TaskKind,
        /// How it ended.
        state: TaskState,
        /// How long it ran.
        duration: Duration,
        /// Why it failed, was skipped or was not run.
        error: Option<String>,
    },
    /// Something that behaves differently locally than on a cluster.
    Warning {
        /// The task it concerns, if any.
        task: Option<String>,
        /// What is different.
        message: String,
    },
    /// The run ended.
    RunFinished {
        /// How.
        state: RunState,
        /// How long it took.
        duration: Duration,
    },
}

impl fmt::Display for RunEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RunStarted { run_id, dir } => {
                write!(f, "run {run_id} started in {}", dir.display())
            }
            Self::TaskStarted {
                task,
                kind,
                attempt,
            } => match (kind, attempt) {
                (TaskKind::Dag, _) | (TaskKind::Loop, _) => write!(f, "▸ {task}"),
                (_, 1) => write!(f, "▶ {task} started"),
                (_, n) => write!(f, "▶ {task} started (attempt {n})"),
            },
            Self::TaskLog { task, line } => write!(f, "  {task} | {line}"),
            Self::TaskRetrying {
                task,
                attempt,
                error,
                delay,
            } => write!(
                f,
                "↻ {task} attempt {attempt} failed ({error}); retrying in {:.1}s",
                delay.as_secs_f64()
            ),
            Self::TaskFinished {
                task,
                state,
                duration,
                error,
                ..
            } => {
                let mark = match state {
                    TaskState::Succeeded => "✔",
                    TaskState::Cached => "◆",
                    TaskState::Skipped => "–",
                    TaskState::Failed => "✘",
                    TaskState::NotRun | TaskState::Cancelled | TaskState::Running => "·",
                };
                write!(f, "{mark} {task} {state} in {:.2}s", duration.as_secs_f64())?;
                if let Some(error) = error {
                    write!(f, ": {error}")?;
                }
                Ok(())
            }
            Self::Warning {
                task: Some(task),
                message,
            } => write!(f, "! {task}: {message}"),
            Self::Warning {
                task: None,
                message,
            } => write!(f, "! {message}"),
            Self::RunFinished { state, duration } => {
                write!(f, "run {state} in {:.2}s", duration.as_secs_f64())
            }
        }
    }
}
