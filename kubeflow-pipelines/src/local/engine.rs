//! The scheduler: runs a DAG's tasks as their dependencies finish (bounded by the runner's
//! parallelism), resolves their inputs, evaluates trigger conditions, expands `ParallelFor`
//! loops (with their own parallelism limit) and collects their outputs, and gives a DAG's
//! outputs to its parent.
//!
//! Failure semantics follow KFP on Argo: once a task fails, no new task starts (fail-fast),
//! except exit tasks (`ALL_UPSTREAM_TASKS_COMPLETED`), which run once what they wait for ended.
//! A task whose condition is false is skipped; what depends on it still runs (it may not read
//! its outputs). Cancellation stops running tasks and starts nothing new.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::record::{RunEvent, TaskKind, TaskRecord, TaskState, Values};
use super::{LocalRunner, cel, executor, value};
use crate::spec::{
    ComponentSpec, DagSpec, InputParameterSpec, KubernetesExecutorConfig, PipelineSpec,
    PipelineTaskSpec, TriggerStrategy,
};

/// Everything a run shares.
pub(crate) struct Ctx<'a> {
    pub runner: &'a LocalRunner,
    pub spec: &'a PipelineSpec,
    pub platform: BTreeMap<String, KubernetesExecutorConfig>,
    pub run_id: String,
    pub run_dir: PathBuf,
    pub pipeline_root: PathBuf,
    pub cache_root: PathBuf,
    pub create_time: String,
    pub workspace: Option<PathBuf>,
    pub python: PathBuf,
    /// The `kfp` version of `python`, when a lightweight component needed it.
    pub python_kfp: Option<String>,
    pub slots: Semaphore,
    pub cancel: CancellationToken,
    pub events: Option<super::EventSink>,
    pub records: Mutex<Vec<TaskRecord>>,
    pub failed: AtomicBool,
    /// The run record as written at the start, and when it was last written.
    pub checkpoint: Mutex<(super::RunRecord, Instant)>,
}

impl Ctx<'_> {
    pub fn emit(&self, event: RunEvent) {
        if let Some(sink) = &self.events {
            sink(&event);
        }
    }

    /// Adds a record, returning its index.
    pub fn add_record(&self, record: TaskRecord) -> usize {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records.push(record);
        records.len() - 1
    }

    pub fn update_record(&self, index: usize, update: impl FnOnce(&mut TaskRecord)) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(record) = records.get_mut(index) {
            update(record);
        }
    }

    /// The folder of a task path (`for-loop-2[1]/print` → `for-loop-2/1/print`).
    pub fn task_dir(&self, path: &str) -> PathBuf {
        let mut dir = self.run_dir.clone();
        for segment in path.split('/') {
            match segment.split_once('[') {
                Some((name, index)) => {
                    dir.push(name);
                    dir.push(index.trim_end_matches(']'));
                }
                None => dir.push(segment),
            }
        }
        dir
    }

    /// Rewrites `run.json` with the tasks so far, at most once a second, so a run killed
    /// outright still leaves a record of what it did.
    pub fn checkpoint(&self) {
        let Ok(mut guard) = self.checkpoint.try_lock() else {
            return;
        };
        if guard.1.elapsed() < Duration::from_secs(1) {
            return;
        }
        guard.0.tasks = self
            .records
            .lock()
            .map(|records| records.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        if let Err(err) = super::write_record(&guard.0) {
            tracing::warn!("could not update the run record: {err}");
        }
        guard.1 = Instant::now();
    }

    fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }
}

/// How a task (or DAG) ended, with its outputs.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub state: TaskState,
    pub outputs: Values,
    pub error: Option<String>,
}

impl Outcome {
    pub fn ok(state: TaskState, outputs: Values) -> Self {
        Self {
            state,
            outputs,
            error: None,
        }
    }

    pub fn bad(state: TaskState, error: impl Into<String>) -> Self {
        Self {
            state,
            outputs: Values::default(),
            error: Some(error.into()),
        }
    }
}

/// At most 200 characters of an expression, for messages.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

/// Runs the root DAG with the pipeline's arguments.
pub(crate) async fn run_root(ctx: &Ctx<'_>, arguments: Values) -> Outcome {
    let Some(root) = ctx.spec.root.as_ref() else {
        return Outcome::bad(TaskState::Failed, "the pipeline has no root");
    };
    match &root.dag {
        Some(dag) => run_dag(ctx, String::new(), dag, arguments).await,
        None => Outcome::bad(TaskState::Failed, "the root component has no DAG"),
    }
}

/// Runs a DAG whose inputs are `scope`; `prefix` is its tasks' path prefix (`""` or `x/`).
fn run_dag<'c>(
    ctx: &'c Ctx<'c>,
    prefix: String,
    dag: &'c DagSpec,
    scope: Values,
) -> BoxFuture<'c, Outcome> {
    Box::pin(async move {
        let mut done: BTreeMap<&str, Outcome> = BTreeMap::new();
        let mut pending: Vec<&str> = dag.tasks.keys().map(String::as_str).collect();
        let mut running = FuturesUnordered::new();
        loop {
            let mut started = Vec::new();
            for &name in &pending {
                let task = &dag.tasks[name];
                if !task
                    .dependent_tasks
                    .iter()
                    .all(|dep| done.contains_key(dep.as_str()))
                {
                    continue;
                }
                started.push(name);
                let path = format!("{prefix}{name}");
                let exit_task = matches!(
                    task.trigger_policy
                        .as_ref()
                        .and_then(|t| t.strategy.as_ref()),
                    Some(TriggerStrategy::AllUpstreamTasksCompleted)
                );
                if let Some(reason) = blocked(ctx, task, &done, exit_task) {
                    let state = if ctx.cancel.is_cancelled() {
                        TaskState::Cancelled
                    } else {
                        TaskState::NotRun
                    };
                    record_unrun(ctx, &path, name, task, state, &reason);
                    done.insert(name, Outcome::bad(state, reason));
                    continue;
                }
                let resolved = resolve_inputs(ctx, task, &scope, &done).and_then(|inputs| {
                    let env = executor::platform_env(ctx, task, &scope, &done)?;
                    Ok((inputs, env))
                });
                match resolved {
                    Ok((inputs, env)) => {
                        running.push(async move {
                            (name, run_task(ctx, path, name, task, inputs, env).await)
                        });
                    }
                    Err(Unresolved::Skipped(reason)) => {
                        record_unrun(ctx, &path, name, task, TaskState::Skipped, &reason);
                        done.insert(name, Outcome::bad(TaskState::Skipped, reason));
                    }
                    Err(Unresolved::Error(reason)) => {
                        ctx.failed.store(true, Ordering::SeqCst);
                        record_unrun(ctx, &path, name, task, TaskState::Failed, &reason);
                        done.insert(name, Outcome::bad(TaskState::Failed, reason));
                    }
                }
            }
            pending.retain(|name| !started.contains(name));
            // Tasks settled without running (not run, skipped) may have unblocked tasks seen
            // earlier in this pass: look again before waiting.
            let settled_now = started.iter().any(|name| done.contains_key(name));
            if settled_now && !pending.is_empty() {
                continue;
            }
            if running.is_empty() {
                if pending.is_empty() {
                    break;
                }
                // Only reachable with tasks waiting on something that never ends: the
                // pre-flight rejects cycles, so this is a bug, reported rather than hung on.
                return Outcome::bad(
                    TaskState::Failed,
                    format!("tasks {} can never start", pending.join(", ")),
                );
            }
            if let Some((name, outcome)) = running.next().await {
                done.insert(name, outcome);
            }
        }

        // Failed only when a task in it failed; a DAG whose tasks were merely not run (another
        // task failed elsewhere) is not run itself.
        let worst = done
            .iter()
            .filter(|(_, o)| !o.state.is_ok())
            .map(|(name, o)| (*name, o))
            .min_by_key(|(_, o)| match o.state {
                TaskState::Failed => 0,
                TaskState::Cancelled => 1,
                _ => 2,
            });
        if let Some((name, outcome)) = worst {
            let state = outcome.state;
            let why = outcome.error.clone().unwrap_or_default();
            return Outcome::bad(
                state,
                format!("task `{prefix}{name}` {}: {why}", outcome.state),
            );
        }
        Outcome::ok(TaskState::Succeeded, dag_outputs(dag, &done))
    })
}

/// Why a ready task does not start, if it does not.
fn blocked(
    ctx: &Ctx<'_>,
    task: &PipelineTaskSpec,
    done: &BTreeMap<&str, Outcome>,
    exit_task: bool,
) -> Option<String> {
    if ctx.cancel.is_cancelled() {
        return Some("the run was cancelled".into());
    }
    if exit_task {
        return None;
    }
    if let Some(dep) = task
        .dependent_tasks
        .iter()
        .find(|dep| done.get(dep.as_str()).is_some_and(|o| !o.state.is_ok()))
    {
        let state = done.get(dep.as_str()).map(|o| o.state);
        return Some(format!(
            "upstream task `{dep}` {}",
            state.map(|s| s.to_string()).unwrap_or_default()
        ));
    }
    if ctx.failed() {
        return Some("another task failed (fail-fast: no new task starts)".into());
    }
    None
}

fn kind_of(ctx: &Ctx<'_>, task: &PipelineTaskSpec) -> TaskKind {
    if task.parameter_iterator.is_some() || task.artifact_iterator.is_some() {
        return TaskKind::Loop;
    }
    let component = component_of(ctx, task);
    match component {
        Some(c) if c.dag.is_some() => TaskKind::Dag,
        Some(c) => executor::kind(ctx, c),
        None => TaskKind::Container,
    }
}

fn component_name(task: &PipelineTaskSpec) -> &str {
    task.component_ref
        .as_ref()
        .and_then(|r| r.name.as_deref())
        .unwrap_or_default()
}

fn component_of<'a>(ctx: &Ctx<'a>, task: &PipelineTaskSpec) -> Option<&'a ComponentSpec> {
    ctx.spec.components.get(component_name(task))
}

fn record_unrun(
    ctx: &Ctx<'_>,
    path: &str,
    name: &str,
    task: &PipelineTaskSpec,
    state: TaskState,
    reason: &str,
) {
    let kind = kind_of(ctx, task);
    let mut record = TaskRecord::new(
        path.to_owned(),
        name.to_owned(),
        component_name(task).to_owned(),
        kind,
    );
    record.state = state;
    record.error = Some(reason.to_owned());
    ctx.add_record(record);
    ctx.emit(RunEvent::TaskFinished {
        task: path.to_owned(),
        kind,
        state,
        duration: Duration::ZERO,
        error: Some(reason.to_owned()),
    });
}

pub(crate) enum Unresolved {
    /// An input comes from a task that was skipped: the task is skipped too.
    Skipped(String),
    Error(String),
}

/// Resolves one parameter input of a task (also used for kfp-kubernetes name parameters).
pub(crate) fn resolve_parameter(
    ctx: &Ctx<'_>,
    name: &str,
    spec: &InputParameterSpec,
    scope: &Values,
    done: &BTreeMap<&str, Outcome>,
) -> Result<Option<Value>, Unresolved> {
    let value = if let Some(constant) = &spec.runtime_value {
        match (&constant.constant, &constant.runtime_parameter) {
            (Some(value), _) => Some(value.clone()),
            (None, Some(param)) => scope.parameters.get(param).cloned(),
            (None, None) => None,
        }
    } else if let Some(input) = &spec.component_input_parameter {
        match scope.parameters.get(input) {
            Some(value) => Some(value.clone()),
            None => return Ok(None),
        }
    } else if let Some(output) = &spec.task_output_parameter {
        let producer = output.producer_task.as_deref().unwrap_or_default();
        let key = output.output_parameter_key.as_deref().unwrap_or_default();
        match done.get(producer) {
            Some(o) if o.state == TaskState::Skipped => {
                return Err(Unresolved::Skipped(format!(
                    "input `{name}` comes from `{producer}`, which was skipped"
                )));
            }
            // A task that runs whatever its upstream did (`ignore_upstream_failure`): an
            // output the failed producer never wrote takes the input's default.
            Some(o) if !o.state.is_ok() => return Ok(None),
            Some(o) => match o.outputs.parameters.get(key) {
                Some(value) => Some(value.clone()),
                None => {
                    return Err(Unresolved::Error(format!(
                        "input `{name}`: task `{producer}` has no output parameter `{key}`"
                    )));
                }
            },
            None => {
                return Err(Unresolved::Error(format!(
                    "input `{name}` comes from `{producer}`, which is not a finished task of this DAG \
                     (add it to dependentTasks)"
                )));
            }
        }
    } else if let Some(status) = &spec.task_final_status {
        let producer = status.producer_task.as_deref().unwrap_or_default();
        let outcome = done.get(producer);
        let state = match outcome.map(|o| o.state) {
            Some(TaskState::Failed | TaskState::NotRun) => "FAILED",
            Some(TaskState::Cancelled) => "CANCELLED",
            _ => "SUCCEEDED",
        };
        let mut error = Map::new();
        if state != "SUCCEEDED" {
            error.insert("code".into(), Value::from(1));
            error.insert(
                "message".into(),
                Value::String(
                    outcome
                        .and_then(|o| o.error.clone())
                        .unwrap_or_else(|| format!("task {producer} failed")),
                ),
            );
        }
        Some(serde_json::json!({
            "state": state,
            "pipelineJobResourceName": ctx.run_id,
            "pipelineTaskName": producer,
            "error": error,
        }))
    } else {
        None
    };
    let Some(value) = value else {
        return Ok(None);
    };
    match &spec.parameter_expression_selector {
        Some(selector) if !selector.is_empty() => {
            let mut env = Map::new();
            let as_string = match &value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            env.insert("string_value".into(), Value::String(as_string));
            env.insert("struct_value".into(), value.clone());
            env.insert("list_value".into(), value.clone());
            env.insert("number_value".into(), value.clone());
            env.insert("bool_value".into(), value);
            cel::eval(selector, &env).map(Some).map_err(|err| {
                Unresolved::Error(format!(
                    "input `{name}`: expression `{}`: {err}",
                    shorten(selector)
                ))
            })
        }
        _ => Ok(Some(value)),
    }
}

/// The task's inputs: from its `inputs` spec, then the component's defaults, types checked.
fn resolve_inputs(
    ctx: &Ctx<'_>,
    task: &PipelineTaskSpec,
    scope: &Values,
    done: &BTreeMap<&str, Outcome>,
) -> Result<Values, Unresolved> {
    let mut out = Values::default();
    if let Some(inputs) = &task.inputs {
        for (name, spec) in &inputs.parameters {
            if let Some(value) = resolve_parameter(ctx, name, spec, scope, done)? {
                out.parameters.insert(name.clone(), value);
            }
        }
        for (name, spec) in &inputs.artifacts {
            if let Some(input) = &spec.component_input_artifact {
                if let Some(list) = scope.artifacts.get(input) {
                    out.artifacts.insert(name.clone(), list.clone());
                }
            } else if let Some(output) = &spec.task_output_artifact {
                let producer = output.producer_task.as_deref().unwrap_or_default();
                let key = output.output_artifact_key.as_deref().unwrap_or_default();
                match done.get(producer) {
                    Some(o) if o.state == TaskState::Skipped => {
                        return Err(Unresolved::Skipped(format!(
                            "input artifact `{name}` comes from `{producer}`, which was skipped"
                        )));
                    }
                    Some(o) if !o.state.is_ok() => {}
                    Some(o) => match o.outputs.artifacts.get(key) {
                        Some(list) => {
                            out.artifacts.insert(name.clone(), list.clone());
                        }
                        None => {
                            return Err(Unresolved::Error(format!(
                                "input artifact `{name}`: task `{producer}` has no output artifact `{key}`"
                            )));
                        }
                    },
                    None => {
                        return Err(Unresolved::Error(format!(
                            "input artifact `{name}` comes from `{producer}`, which is not a finished \
                             task of this DAG"
                        )));
                    }
                }
            }
        }
    }
    // Loop items are bound later; everything else gets its default or must be optional.
    let iterator_item = task
        .parameter_iterator
        .as_ref()
        .and_then(|i| i.item_input.clone())
        .or_else(|| {
            task.artifact_iterator
                .as_ref()
                .and_then(|i| i.item_input.clone())
        });
    if let Some(defs) = component_of(ctx, task).and_then(|c| c.input_definitions.as_ref()) {
        for (name, def) in &defs.parameters {
            let ty =
                value::effective_type(def.parameter_type.as_ref(), def.primitive_type.as_ref());
            match out.parameters.remove(name) {
                Some(value) => {
                    let value = value::coerce(value, ty.as_ref())
                        .map_err(|err| Unresolved::Error(format!("input `{name}`: {err}")))?;
                    out.parameters.insert(name.clone(), value);
                }
                None => {
                    if let Some(default) = &def.default_value {
                        // Protobuf writes every number as a double: `100.0` for an integer.
                        let value = value::coerce(default.clone(), ty.as_ref()).map_err(|err| {
                            Unresolved::Error(format!("default of input `{name}`: {err}"))
                        })?;
                        out.parameters.insert(name.clone(), value);
                    } else if def.is_optional != Some(true)
                        && iterator_item.as_deref() != Some(name.as_str())
                        && !matches!(ty, Some(crate::spec::ParameterType::TaskFinalStatus))
                    {
                        return Err(Unresolved::Error(format!(
                            "input `{name}` is required and has no value"
                        )));
                    }
                }
            }
        }
        for (name, def) in &defs.artifacts {
            if !out.artifacts.contains_key(name)
                && def.is_optional != Some(true)
                && iterator_item.as_deref() != Some(name.as_str())
            {
                return Err(Unresolved::Error(format!(
                    "input artifact `{name}` is required and has no value"
                )));
            }
        }
    }
    Ok(out)
}

/// Runs one task of a DAG: condition, loop, then its component.
async fn run_task(
    ctx: &Ctx<'_>,
    path: String,
    name: &str,
    task: &PipelineTaskSpec,
    inputs: Values,
    env: Vec<(String, String)>,
) -> Outcome {
    let Some(component) = component_of(ctx, task) else {
        return Outcome::bad(TaskState::Failed, "unknown component");
    };
    if let Some(condition) = task
        .trigger_policy
        .as_ref()
        .and_then(|t| t.condition.as_deref())
        .filter(|c| !c.trim().is_empty())
    {
        let mut names = Map::new();
        names.insert(
            "inputs".into(),
            serde_json::json!({ "parameter_values": inputs.parameters }),
        );
        match cel::eval_bool(condition, &names) {
            Ok(true) => {}
            Ok(false) => {
                let reason = format!("condition `{}` is false", shorten(condition));
                record_unrun(ctx, &path, name, task, TaskState::Skipped, &reason);
                return Outcome::bad(TaskState::Skipped, reason);
            }
            Err(err) => {
                let reason = format!("condition `{}`: {err}", shorten(condition));
                ctx.failed.store(true, Ordering::SeqCst);
                record_unrun(ctx, &path, name, task, TaskState::Failed, &reason);
                return Outcome::bad(TaskState::Failed, reason);
            }
        }
    }
    if task.parameter_iterator.is_some() || task.artifact_iterator.is_some() {
        return run_loop(ctx, path, name, task, component, inputs, env).await;
    }
    run_component(ctx, path, name, task, component, inputs, env).await
}

/// Runs a component (a DAG or an executor) as the task at `path`.
fn run_component<'c>(
    ctx: &'c Ctx<'c>,
    path: String,
    name: &'c str,
    task: &'c PipelineTaskSpec,
    component: &'c ComponentSpec,
    inputs: Values,
    env: Vec<(String, String)>,
) -> BoxFuture<'c, Outcome> {
    Box::pin(async move {
        let Some(dag) = &component.dag else {
            return executor::run(ctx, path, name, task, component, inputs, env).await;
        };
        let started = Instant::now();
        let mut record = TaskRecord::new(
            path.clone(),
            name.to_owned(),
            component_name(task).to_owned(),
            TaskKind::Dag,
        );
        record.started_at = Some(Utc::now());
        record.inputs = inputs.clone();
        record.attempts = 1;
        let index = ctx.add_record(record);
        ctx.emit(RunEvent::TaskStarted {
            task: path.clone(),
            kind: TaskKind::Dag,
            attempt: 1,
        });
        let outcome = run_dag(ctx, format!("{path}/"), dag, inputs).await;
        finish_task(ctx, index, &path, TaskKind::Dag, started, &outcome);
        outcome
    })
}

/// Records how a task (an executor, a DAG or a loop) ended and reports it.
pub(crate) fn finish_task(
    ctx: &Ctx<'_>,
    index: usize,
    path: &str,
    kind: TaskKind,
    started: Instant,
    outcome: &Outcome,
) {
    ctx.update_record(index, |record| {
        record.state = outcome.state;
        record.finished_at = Some(Utc::now());
        record.outputs = outcome.outputs.clone();
        record.error.clone_from(&outcome.error);
    });
    ctx.emit(RunEvent::TaskFinished {
        task: path.to_owned(),
        kind,
        state: outcome.state,
        duration: started.elapsed(),
        error: outcome.error.clone(),
    });
}

/// The items a loop iterates over.
fn loop_items(task: &PipelineTaskSpec, inputs: &Values) -> Result<(String, Vec<Values>), String> {
    if let Some(iterator) = &task.parameter_iterator {
        let item_input = iterator
            .item_input
            .clone()
            .ok_or("parameterIterator has no itemInput")?;
        let items = iterator
            .items
            .as_ref()
            .ok_or("parameterIterator has no items")?;
        let list = if let Some(raw) = &items.raw {
            serde_json::from_str::<Value>(raw)
                .map_err(|err| format!("loop items {raw:?} are not JSON: {err}"))?
        } else if let Some(input) = &items.input_parameter {
            match inputs.parameters.get(input) {
                Some(Value::String(text)) => serde_json::from_str(text)
                    .map_err(|err| format!("loop items `{input}` are not a JSON list: {err}"))?,
                Some(value) => value.clone(),
                None => return Err(format!("loop items `{input}` have no value")),
            }
        } else {
            return Err("parameterIterator items have neither raw nor inputParameter".into());
        };
        let Value::Array(list) = list else {
            return Err(format!(
                "loop items must be a list, got {}",
                value::describe_value(&list)
            ));
        };
        let iterations = list
            .into_iter()
            .map(|item| {
                let mut values = inputs.clone();
                values.parameters.insert(item_input.clone(), item);
                values
            })
            .collect();
        return Ok((item_input, iterations));
    }
    let iterator = task
        .artifact_iterator
        .as_ref()
        .ok_or("the task has no iterator")?;
    let item_input = iterator
        .item_input
        .clone()
        .ok_or("artifactIterator has no itemInput")?;
    let input = iterator
        .items
        .as_ref()
        .and_then(|i| i.input_artifact.as_deref())
        .ok_or("artifactIterator has no items.inputArtifact")?;
    let list = inputs
        .artifacts
        .get(input)
        .ok_or_else(|| format!("loop artifacts `{input}` have no value"))?;
    let iterations = list
        .iter()
        .map(|artifact| {
            let mut values = inputs.clone();
            values
                .artifacts
                .insert(item_input.clone(), vec![artifact.clone()]);
            values
        })
        .collect();
    Ok((item_input, iterations))
}

/// Runs a `ParallelFor`: one run of the component per item, at most `parallelismLimit` at once;
/// each output becomes the list of the iterations' values (the fan-in KFP's `Collected` reads).
async fn run_loop(
    ctx: &Ctx<'_>,
    path: String,
    name: &str,
    task: &PipelineTaskSpec,
    component: &ComponentSpec,
    inputs: Values,
    env: Vec<(String, String)>,
) -> Outcome {
    let started = Instant::now();
    let mut record = TaskRecord::new(
        path.clone(),
        name.to_owned(),
        component_name(task).to_owned(),
        TaskKind::Loop,
    );
    record.started_at = Some(Utc::now());
    record.inputs = inputs.clone();
    record.attempts = 1;
    let index = ctx.add_record(record);
    ctx.emit(RunEvent::TaskStarted {
        task: path.clone(),
        kind: TaskKind::Loop,
        attempt: 1,
    });
    let outcome = match loop_items(task, &inputs) {
        Err(err) => {
            ctx.failed.store(true, Ordering::SeqCst);
            Outcome::bad(TaskState::Failed, err)
        }
        Ok((_, iterations)) => {
            let limit = task
                .iterator_policy
                .as_ref()
                .and_then(|p| p.parallelism_limit)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n > 0)
                .unwrap_or(usize::MAX);
            let count = iterations.len();
            let mut results: Vec<Option<Outcome>> = vec![None; count];
            let mut queue = iterations.into_iter().enumerate();
            let mut running = FuturesUnordered::new();
            loop {
                while running.len() < limit {
                    let Some((i, values)) = queue.next() else {
                        break;
                    };
                    if ctx.cancel.is_cancelled() || ctx.failed() {
                        let state = if ctx.cancel.is_cancelled() {
                            TaskState::Cancelled
                        } else {
                            TaskState::NotRun
                        };
                        results[i] = Some(Outcome::bad(state, "not started"));
                        continue;
                    }
                    let iteration_path = format!("{path}[{i}]");
                    let env = env.clone();
                    running.push(async move {
                        let outcome =
                            run_component(ctx, iteration_path, name, task, component, values, env)
                                .await;
                        (i, outcome)
                    });
                }
                match running.next().await {
                    Some((i, outcome)) => results[i] = Some(outcome),
                    None => break,
                }
            }
            let mut outcome = collect_iterations(results.into_iter().flatten().collect());
            // A loop over nothing still gives its collected outputs: empty lists.
            if outcome.state.is_ok()
                && let Some(defs) = &component.output_definitions
            {
                for name in defs.parameters.keys() {
                    outcome
                        .outputs
                        .parameters
                        .entry(name.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                }
                for name in defs.artifacts.keys() {
                    outcome.outputs.artifacts.entry(name.clone()).or_default();
                }
            }
            outcome
        }
    };
    finish_task(ctx, index, &path, TaskKind::Loop, started, &outcome);
    outcome
}

fn collect_iterations(results: Vec<Outcome>) -> Outcome {
    // The iteration that failed, rather than one that was then not started.
    let first_bad = results
        .iter()
        .enumerate()
        .find(|(_, o)| o.state == TaskState::Failed)
        .or_else(|| results.iter().enumerate().find(|(_, o)| !o.state.is_ok()));
    if let Some((i, bad)) = first_bad {
        let state = if bad.state == TaskState::Cancelled {
            TaskState::Cancelled
        } else {
            TaskState::Failed
        };
        return Outcome::bad(
            state,
            format!(
                "iteration {i} {}: {}",
                bad.state,
                bad.error.clone().unwrap_or_default()
            ),
        );
    }
    let mut outputs = Values::default();
    for result in results {
        for (key, value) in result.outputs.parameters {
            if let Value::Array(list) = outputs
                .parameters
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                list.push(value);
            }
        }
        for (key, list) in result.outputs.artifacts {
            outputs.artifacts.entry(key).or_default().extend(list);
        }
    }
    Outcome::ok(TaskState::Succeeded, outputs)
}

/// A DAG's outputs, from its `outputs` selectors (the first branch that produced a value, for
/// `OneOf`).
fn dag_outputs(dag: &DagSpec, done: &BTreeMap<&str, Outcome>) -> Values {
    let mut out = Values::default();
    let Some(outputs) = &dag.outputs else {
        return out;
    };
    let param = |producer: Option<&String>, key: Option<&String>| -> Option<Value> {
        let outcome = done.get(producer?.as_str())?;
        outcome.outputs.parameters.get(key?.as_str()).cloned()
    };
    for (name, spec) in &outputs.parameters {
        let value = if let Some(selector) = &spec.value_from_parameter {
            param(
                selector.producer_subtask.as_ref(),
                selector.output_parameter_key.as_ref(),
            )
        } else if let Some(oneof) = &spec.value_from_oneof {
            oneof.parameter_selectors.iter().find_map(|selector| {
                param(
                    selector.producer_subtask.as_ref(),
                    selector.output_parameter_key.as_ref(),
                )
            })
        } else {
            None
        };
        if let Some(value) = value {
            out.parameters.insert(name.clone(), value);
        }
    }
    for (name, spec) in &outputs.artifacts {
        let found = spec.artifact_selectors.iter().find_map(|selector| {
            let outcome = done.get(selector.producer_subtask.as_deref()?)?;
            outcome
                .outputs
                .artifacts
                .get(selector.output_artifact_key.as_deref()?)
                .cloned()
        });
        if let Some(list) = found {
            out.artifacts.insert(name.clone(), list);
        }
    }
    out
}
