//! Errors of the local runner.

use std::fmt;
use std::path::PathBuf;

use super::record::{RunRecord, TaskKind, TaskRecord};

/// Why a local run could not start, or how it ended when it did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The pipeline spec is not runnable as written (a missing component or executor, a task
    /// that depends on an unknown task, a cycle, ...). `at` names the place in the spec.
    #[error("invalid pipeline at {at}: {message}")]
    InvalidPipeline {
        /// Where in the spec, e.g. `root.dag.tasks.train`.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// A pipeline argument is missing, unknown or of the wrong type.
    #[error("pipeline argument `{name}`: {message}")]
    InvalidArgument {
        /// The parameter (or artifact) name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The pipeline uses something the local runner cannot do on this machine.
    #[error("task `{task}` cannot run locally: {feature}")]
    Unsupported {
        /// The task's path.
        task: String,
        /// What it needs, and what to do about it.
        feature: String,
    },
    /// A lightweight Python component needs a Python interpreter with the `kfp` package.
    #[error(
        "task `{task}` is a lightweight Python component and needs a Python with the `kfp` \
         package, but `{python}` {reason}; install kfp into it (pip install kfp) or point \
         KUBEFLOW_LOCAL_PYTHON (or LocalRunner::python) at an interpreter that has it"
    )]
    PythonUnavailable {
        /// The task's path.
        task: String,
        /// The interpreter that was tried.
        python: String,
        /// What went wrong.
        reason: String,
    },
    /// The run ended with a failed task; the record says everything that happened.
    #[error("{}", RunFailureDisplay(.0))]
    RunFailed(Box<RunRecord>),
    /// The run was cancelled (for example with Ctrl-C); running tasks were stopped.
    #[error("run {} was cancelled", .0.run_id)]
    Cancelled(Box<RunRecord>),
    /// A file of the run could not be written or read.
    #[error("could not {action} {}: {source}", .path.display())]
    Io {
        /// What the runner was doing.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A run record could not be read.
    #[error("could not read the run record {}: {message}", .path.display())]
    Record {
        /// The record file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl LocalError {
    /// The run's record, when the run started (it failed or was cancelled).
    pub fn record(&self) -> Option<&RunRecord> {
        match self {
            Self::RunFailed(record) | Self::Cancelled(record) => Some(record),
            _ => None,
        }
    }

    /// The task that failed (the first step that failed, rather than the DAG around it), when
    /// the run failed.
    pub fn failed_task(&self) -> Option<&TaskRecord> {
        let Self::RunFailed(record) = self else {
            return None;
        };
        record
            .failed_tasks()
            .find(|task| !matches!(task.kind, TaskKind::Dag | TaskKind::Loop))
            .or_else(|| record.failed_tasks().next())
    }
}

/// How many log lines a failure message shows.
const LOG_TAIL_LINES: usize = 12;

struct RunFailureDisplay<'a>(&'a RunRecord);

impl fmt::Display for RunFailureDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = self.0;
        write!(f, "run {} of `{}` failed", record.run_id, record.pipeline)?;
        // Leaf tasks first: a failed DAG only repeats its child's failure.
        let failed: Vec<&TaskRecord> = record.failed_tasks().collect();
        let leaves: Vec<&TaskRecord> = failed
            .iter()
            .copied()
            .filter(|task| !matches!(task.kind, TaskKind::Dag | TaskKind::Loop))
            .collect();
        let shown = if leaves.is_empty() { failed } else { leaves };
        if shown.is_empty() {
            if let Some(error) = &record.error {
                write!(f, ": {error}")?;
            }
            return Ok(());
        }
        for task in shown {
            write!(f, "\n  task `{}` failed", task.path)?;
            let says_code = task
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("exited with code"));
            if let (Some(code), false) = (task.exit_code, says_code) {
                write!(f, " with exit code {code}")?;
            }
            if task.attempts > 1 {
                write!(f, " after {} attempts", task.attempts)?;
            }
            if let Some(error) = &task.error {
                write!(f, ": {error}")?;
            }
            let tail = task.log_tail(LOG_TAIL_LINES);
            if !tail.is_empty() {
                write!(f, "\n  last lines of its log")?;
                if let Some(log) = &task.log {
                    write!(f, " ({})", log.display())?;
                }
                write!(f, ":")?;
                for line in tail {
                    write!(f, "\n    | {line}")?;
                }
            }
        }
        Ok(())
    }
}
