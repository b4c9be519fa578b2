//! Running one executor task: a container component (as a local subprocess, with retries,
//! timeout, cache and outputs), a lightweight Python component (through the local `kfp`
//! executor) or an importer.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::engine::{Ctx, Outcome, Unresolved, finish_task, resolve_parameter};
use super::placeholder::{self, TaskContext};
use super::process::{self, Attempt, Exit};
use super::python::{self, PythonKind};
use super::record::{LocalArtifact, RunEvent, TaskKind, TaskRecord, TaskState, Values, local_path};
use super::{cache, preflight, value};
use crate::spec::{
    ComponentSpec, ExecutorSpec, ImporterSpec, KubernetesExecutorConfig, PipelineContainerSpec,
    PipelineTaskSpec, RetryPolicy,
};

const EXECUTOR_OUTPUT: &str = "executor_output.json";
const EXECUTOR_INPUT: &str = "executor_input.json";
const LOG_FILE: &str = "task.log";
const MODULE_FILE: &str = "ephemeral_component.py";

/// What kind of step a component with an executor is.
pub(crate) fn kind(ctx: &Ctx<'_>, component: &ComponentSpec) -> TaskKind {
    match preflight::executor_of(ctx.spec, component) {
        Some((_, executor)) if executor.importer.is_some() => TaskKind::Importer,
        Some((_, executor)) => match &executor.container {
            Some(container) => {
                let full: Vec<String> = container
                    .command
                    .iter()
                    .chain(&container.args)
                    .cloned()
                    .collect();
                match python::detect(&full) {
                    PythonKind::Lightweight(_) => TaskKind::Python,
                    _ => TaskKind::Container,
                }
            }
            None => TaskKind::Container,
        },
        None => TaskKind::Container,
    }
}

fn platform_config<'a>(
    ctx: &'a Ctx<'_>,
    component: &ComponentSpec,
) -> Option<&'a KubernetesExecutorConfig> {
    ctx.platform.get(component.executor_label.as_deref()?)
}

/// The environment variables the task's kfp-kubernetes config asks for (secrets and config
/// maps the runner was given, field paths).
pub(crate) fn platform_env(
    ctx: &Ctx<'_>,
    task: &PipelineTaskSpec,
    scope: &Values,
    done: &BTreeMap<&str, Outcome>,
) -> Result<Vec<(String, String)>, Unresolved> {
    let Some(component) = task
        .component_ref
        .as_ref()
        .and_then(|r| r.name.as_deref())
        .and_then(|name| ctx.spec.components.get(name))
    else {
        return Ok(Vec::new());
    };
    let Some(config) = platform_config(ctx, component) else {
        return Ok(Vec::new());
    };
    let name_of = |fixed: &Option<String>,
                   param: &Option<crate::spec::InputParameterSpec>|
     -> Result<Option<String>, Unresolved> {
        if let Some(param) = param {
            let value = resolve_parameter(ctx, "secret name", param, scope, done)?;
            return Ok(value.map(|v| value::render(&v)));
        }
        Ok(fixed.clone())
    };
    let mut env = Vec::new();
    let mut add = |kind: &str,
                   store: &BTreeMap<String, BTreeMap<String, String>>,
                   name: Option<String>,
                   optional: bool,
                   pairs: Vec<(Option<String>, Option<String>)>,
                   how: &str|
     -> Result<(), Unresolved> {
        let Some(name) = name else {
            return Err(Unresolved::Error(format!("a {kind} reference has no name")));
        };
        let Some(values) = store.get(&name) else {
            if optional {
                return Ok(());
            }
            return Err(Unresolved::Error(format!(
                "the task reads {kind} `{name}` into its environment, but the local runner was \
                 not given it: use {how}(\"{name}\", ...)"
            )));
        };
        for (key, var) in pairs {
            let (Some(key), Some(var)) = (key, var) else {
                continue;
            };
            match values.get(&key) {
                Some(value) => env.push((var, value.clone())),
                None if optional => {}
                None => {
                    return Err(Unresolved::Error(format!(
                        "{kind} `{name}` given to the local runner has no key `{key}`"
                    )));
                }
            }
        }
        Ok(())
    };
    for secret in &config.secret_as_env {
        let name = name_of(&secret.secret_name, &secret.secret_name_parameter)?;
        let pairs = secret
            .key_to_env
            .iter()
            .map(|k| (k.secret_key.clone(), k.env_var.clone()))
            .collect();
        add(
            "secret",
            &ctx.runner.secrets,
            name,
            secret.optional == Some(true),
            pairs,
            "LocalRunner::secret",
        )?;
    }
    for map in &config.config_map_as_env {
        let name = name_of(&map.config_map_name, &map.config_map_name_parameter)?;
        let pairs = map
            .key_to_env
            .iter()
            .map(|k| (k.config_map_key.clone(), k.env_var.clone()))
            .collect();
        add(
            "config map",
            &ctx.runner.config_maps,
            name,
            map.optional == Some(true),
            pairs,
            "LocalRunner::config_map",
        )?;
    }
    for field in &config.field_path_as_env {
        let (Some(var), Some(path)) = (&field.name, &field.field_path) else {
            continue;
        };
        let value = match path.as_str() {
            "metadata.name" => format!("{}-{}", ctx.run_id, component_key(task)),
            "metadata.namespace" => "local".to_owned(),
            _ => continue,
        };
        env.push((var.clone(), value));
    }
    Ok(env)
}

fn component_key(task: &PipelineTaskSpec) -> String {
    task.task_info
        .as_ref()
        .and_then(|i| i.name.clone())
        .unwrap_or_default()
}

/// What differs from a cluster for this task, for its record.
fn notes(
    container: &PipelineContainerSpec,
    config: Option<&KubernetesExecutorConfig>,
) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(image) = &container.image {
        notes.push(format!(
            "image `{image}` not pulled: the command ran on this machine"
        ));
    }
    if container.resources.is_some() {
        notes.push("CPU, memory and accelerator settings have no effect locally".into());
    }
    if let Some(config) = config {
        let mut ignored = Vec::new();
        if config.node_selector.is_some() {
            ignored.push("node selector");
        }
        if !config.tolerations.is_empty() {
            ignored.push("tolerations");
        }
        if !config.node_affinity.is_empty() || !config.pod_affinity.is_empty() {
            ignored.push("affinity");
        }
        if config.pod_metadata.is_some() {
            ignored.push("pod labels and annotations");
        }
        if !config.image_pull_secret.is_empty() || config.image_pull_policy.is_some() {
            ignored.push("image pull settings");
        }
        if config.field_path_as_env.iter().any(|f| {
            !matches!(
                f.field_path.as_deref(),
                Some("metadata.name" | "metadata.namespace")
            )
        }) {
            ignored.push("field paths other than metadata.name and metadata.namespace");
        }
        if !ignored.is_empty() {
            notes.push(format!("no effect locally: {}", ignored.join(", ")));
        }
    }
    notes
}

fn finish(
    ctx: &Ctx<'_>,
    index: usize,
    path: &str,
    kind: TaskKind,
    started: Instant,
    outcome: &Outcome,
) {
    if outcome.state == TaskState::Failed {
        ctx.failed.store(true, Ordering::SeqCst);
    }
    finish_task(ctx, index, path, kind, started, outcome);
    ctx.checkpoint();
}

/// Runs an executor task to its end and records it.
pub(crate) async fn run(
    ctx: &Ctx<'_>,
    path: String,
    name: &str,
    task: &PipelineTaskSpec,
    component: &ComponentSpec,
    inputs: Values,
    env: Vec<(String, String)>,
) -> Outcome {
    let started = Instant::now();
    let kind = kind(ctx, component);
    let component_name = task
        .component_ref
        .as_ref()
        .and_then(|r| r.name.clone())
        .unwrap_or_default();
    let mut record = TaskRecord::new(path.clone(), name.to_owned(), component_name, kind);
    record.started_at = Some(Utc::now());
    record.inputs = inputs.clone();
    let index = ctx.add_record(record);
    let outcome = match preflight::executor_of(ctx.spec, component) {
        None => Outcome::bad(TaskState::Failed, "the component has no executor"),
        Some((
            _,
            ExecutorSpec {
                importer: Some(importer),
                ..
            },
        )) => {
            ctx.emit(RunEvent::TaskStarted {
                task: path.clone(),
                kind,
                attempt: 1,
            });
            ctx.update_record(index, |r| r.attempts = 1);
            import(ctx, &path, importer, component, &inputs, index)
        }
        Some((
            _,
            ExecutorSpec {
                container: Some(container),
                ..
            },
        )) => {
            let config = platform_config(ctx, component);
            let run = ContainerRun {
                ctx,
                path: &path,
                name,
                task,
                component,
                container,
                config,
                index,
                kind,
            };
            run.run(inputs, env).await
        }
        Some((label, _)) => Outcome::bad(
            TaskState::Failed,
            format!("executor `{label}` is neither a container nor an importer"),
        ),
    };
    finish(ctx, index, &path, kind, started, &outcome);
    outcome
}

fn import(
    ctx: &Ctx<'_>,
    path: &str,
    importer: &ImporterSpec,
    component: &ComponentSpec,
    inputs: &Values,
    index: usize,
) -> Outcome {
    let uri = match &importer.artifact_uri {
        Some(spec) => match (&spec.constant, &spec.runtime_parameter) {
            (Some(value), _) => Some(value::render(value)),
            (None, Some(param)) => inputs.parameters.get(param).map(value::render),
            (None, None) => None,
        },
        None => None,
    };
    let Some(mut uri) = uri else {
        return Outcome::bad(TaskState::Failed, "the importer has no artifact URI");
    };
    if local_path(&uri).is_none() {
        let source = ctx
            .runner
            .artifact_sources
            .iter()
            .filter(|(prefix, _)| uri.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len());
        let Some((prefix, dir)) = source else {
            return Outcome::bad(
                TaskState::Failed,
                format!(
                    "it imports `{uri}`, a remote URI, and the local runner downloads nothing: \
                     give a local copy with LocalRunner::artifact_source(\"<prefix>\", <local dir>)"
                ),
            );
        };
        let local = dir.join(uri[prefix.len()..].trim_start_matches('/'));
        let message = format!("imported `{uri}` from its local copy {}", local.display());
        ctx.update_record(index, |r| r.notes.push(message));
        uri = local.display().to_string();
    }
    let (output, def) = match component
        .output_definitions
        .as_ref()
        .and_then(|o| o.artifacts.iter().next())
    {
        Some((name, def)) => (name.clone(), Some(def)),
        None => ("artifact".to_owned(), None),
    };
    let ty = importer
        .type_schema
        .as_ref()
        .or_else(|| def.and_then(|d| d.artifact_type.as_ref()));
    // Metadata values may hold input placeholders.
    let executor_input = json!({"inputs": {"parameterValues": inputs.parameters}});
    let metadata = importer
        .metadata
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::String(text) if text.contains("{{$") => {
                    match placeholder::resolve_command(
                        std::slice::from_ref(&text),
                        &executor_input,
                        &empty_context(),
                    ) {
                        Ok(mut parts) if parts.len() == 1 => Value::String(parts.remove(0)),
                        _ => Value::String(text),
                    }
                }
                other => other,
            };
            (key, value)
        })
        .collect::<Map<String, Value>>();
    if let Some(local) = local_path(&uri)
        && !local.exists()
    {
        let message = format!("imported path {} does not exist", local.display());
        ctx.emit(RunEvent::Warning {
            task: Some(path.to_owned()),
            message: message.clone(),
        });
        ctx.update_record(index, |r| r.notes.push(message));
    }
    let artifact = LocalArtifact {
        name: output.clone(),
        uri,
        schema_title: ty
            .and_then(|t| t.schema_title.clone())
            .unwrap_or_else(|| "system.Artifact".into()),
        schema_version: ty.and_then(|t| t.schema_version.clone()),
        metadata,
    };
    let mut outputs = Values::default();
    outputs.artifacts.insert(output, vec![artifact]);
    Outcome::ok(TaskState::Succeeded, outputs)
}

fn empty_context() -> TaskContext {
    TaskContext {
        job_name: String::new(),
        job_id: String::new(),
        task_name: String::new(),
        task_id: String::new(),
        pipeline_root: String::new(),
        create_time: String::new(),
        workspace: None,
    }
}

struct ContainerRun<'a, 'c> {
    ctx: &'a Ctx<'c>,
    path: &'a str,
    name: &'a str,
    task: &'a PipelineTaskSpec,
    component: &'a ComponentSpec,
    container: &'a PipelineContainerSpec,
    config: Option<&'a KubernetesExecutorConfig>,
    index: usize,
    kind: TaskKind,
}

/// Why an attempt failed, and whether the task was cancelled instead.
enum AttemptError {
    Failed(String),
    Cancelled,
}

impl ContainerRun<'_, '_> {
    fn fail(&self, message: impl Into<String>) -> Outcome {
        Outcome::bad(TaskState::Failed, message)
    }

    async fn run(&self, inputs: Values, env: Vec<(String, String)>) -> Outcome {
        let ctx = self.ctx;
        let dir = ctx.task_dir(self.path);
        if let Err(err) = std::fs::create_dir_all(&dir) {
            return self.fail(format!("could not create {}: {err}", dir.display()));
        }
        let notes = notes(self.container, self.config);
        let log = dir.join(LOG_FILE);
        ctx.update_record(self.index, |r| {
            r.image.clone_from(&self.container.image);
            r.dir = Some(dir.clone());
            r.notes.extend(notes);
        });

        let mut executor_input = self.executor_input(&inputs, &dir);
        let constants: std::collections::BTreeSet<String> = self
            .task
            .inputs
            .iter()
            .flat_map(|i| &i.parameters)
            .filter(|(_, spec)| {
                spec.runtime_value
                    .as_ref()
                    .is_some_and(|v| v.constant.is_some())
            })
            .map(|(name, _)| name.clone())
            .collect();
        if let Err(err) = placeholder::resolve_self_references(&mut executor_input, &constants) {
            return self.fail(err);
        }
        let _ = std::fs::write(
            dir.join(EXECUTOR_INPUT),
            serde_json::to_vec_pretty(&executor_input).unwrap_or_default(),
        );

        // The command line.
        let full: Vec<String> = self
            .container
            .command
            .iter()
            .chain(&self.container.args)
            .cloned()
            .collect();
        let mut env_all: Vec<(String, String)> = self
            .container
            .env
            .iter()
            .filter_map(|e| Some((e.name.clone()?, e.value.clone().unwrap_or_default())))
            .collect();
        let template = match python::detect(&full) {
            PythonKind::Lightweight(found) => {
                let module = dir.join(MODULE_FILE);
                if let Err(err) = std::fs::write(&module, &found.program) {
                    return self.fail(format!("could not write {}: {err}", module.display()));
                }
                if !found.packages.is_empty() {
                    let message = format!(
                        "the component asks pip to install {}: the local runner does not install \
                         packages, they must be importable by {}",
                        found.packages.join(", "),
                        ctx.python.display()
                    );
                    ctx.emit(RunEvent::Warning {
                        task: Some(self.path.to_owned()),
                        message: message.clone(),
                    });
                    ctx.update_record(self.index, |r| r.notes.push(message));
                }
                if let (Some(wanted), Some(local)) = (&found.kfp_version, &ctx.python_kfp)
                    && wanted != local
                {
                    let message = format!(
                        "compiled for kfp {wanted}; {} has kfp {local}",
                        ctx.python.display()
                    );
                    ctx.emit(RunEvent::Warning {
                        task: Some(self.path.to_owned()),
                        message: message.clone(),
                    });
                    ctx.update_record(self.index, |r| r.notes.push(message));
                }
                env_all.push(("_KFP_RUNTIME".into(), "true".into()));
                python::command(&ctx.python, &module, &found.args)
            }
            PythonKind::Containerized => {
                return self.fail("a containerized Python component cannot run locally");
            }
            PythonKind::None => full,
        };
        let task_ctx = TaskContext {
            job_name: ctx.run_id.clone(),
            job_id: ctx.run_id.clone(),
            task_name: self.name.to_owned(),
            task_id: format!("{}-{}", ctx.run_id, self.path.replace(['/', '[', ']'], "-")),
            pipeline_root: ctx.pipeline_root.display().to_string(),
            create_time: ctx.create_time.clone(),
            workspace: ctx.workspace.as_ref().map(|w| w.display().to_string()),
        };
        let argv = match placeholder::resolve_command(&template, &executor_input, &task_ctx) {
            Ok(argv) if !argv.is_empty() => argv,
            Ok(_) => return self.fail("the command is empty"),
            Err(err) => return self.fail(err),
        };
        env_all.extend(env);
        env_all.extend(ctx.runner.env.iter().cloned());

        // The cache.
        let caching = ctx.runner.caching
            && self
                .task
                .caching_options
                .as_ref()
                .and_then(|c| c.enable_cache)
                == Some(true);
        let cache_key = if caching {
            // The environment is part of the key (hashed, never stored): a task run with other
            // variables, secrets or another Python is another task.
            let mut environment: Vec<&(String, String)> = env_all.iter().collect();
            environment.sort();
            let fingerprint = json!({
                "executor": ctx.spec.deployment_spec.as_ref()
                    .and_then(|d| d.executors.get(self.component.executor_label.as_deref().unwrap_or_default())),
                "inputs": self.component.input_definitions,
                "outputs": self.component.output_definitions,
                "platform": self.config,
                "env": environment,
                "python": matches!(self.kind, TaskKind::Python)
                    .then(|| (ctx.python.display().to_string(), ctx.python_kfp.clone())),
            });
            let hashed_inputs = inputs.clone();
            // Reading artifacts can take a while: off the scheduler's thread.
            let hashed =
                tokio::task::spawn_blocking(move || cache::key(&fingerprint, &hashed_inputs)).await;
            match hashed.map_err(std::io::Error::other).and_then(|r| r) {
                Ok(key) => Some(key),
                Err(err) => {
                    ctx.emit(RunEvent::Warning {
                        task: Some(self.path.to_owned()),
                        message: format!("not cached: could not hash its inputs ({err})"),
                    });
                    None
                }
            }
        } else {
            None
        };
        if let Some(key) = &cache_key
            && let Some(entry) = cache::lookup(&ctx.cache_root, key)
        {
            ctx.update_record(self.index, |r| {
                r.cached_from = Some(entry.origin.clone());
                r.log.clone_from(&entry.log);
            });
            return Outcome::ok(TaskState::Cached, entry.outputs);
        }

        let cwd = ctx.runner.working_dir.as_deref();
        // The task's own PATH, when its environment sets one.
        let path_var = env_all
            .iter()
            .rev()
            .find(|(name, _)| name == "PATH")
            .map(|(_, value)| std::ffi::OsString::from(value));
        if process::find_program(&argv[0], cwd, path_var).is_none() {
            let image = self.container.image.as_deref().unwrap_or("?");
            return self.fail(format!(
                "command `{}` not found on this machine (the local runner runs the component's \
                 command directly; it does not pull the image `{image}`)",
                argv[0]
            ));
        }
        ctx.update_record(self.index, |r| {
            r.command.clone_from(&argv);
            r.log = Some(log.clone());
        });

        let timeout = self
            .config
            .and_then(|c| c.active_deadline_seconds.as_ref())
            .and_then(|v| match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            })
            .filter(|secs| *secs > 0.0)
            .map(|secs| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
            .or(ctx.runner.task_timeout);
        let retry = self.task.retry_policy.as_ref();
        let max_retries = retry
            .and_then(|r| r.max_retry_count)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);

        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self
                .attempt(
                    attempt,
                    &argv,
                    &env_all,
                    &dir,
                    &log,
                    timeout,
                    &executor_input,
                )
                .await
            {
                Ok(outputs) => {
                    if let Some(key) = &cache_key {
                        let entry = cache::Entry {
                            origin: format!("{}/{}", ctx.run_id, self.path),
                            outputs: outputs.clone(),
                            log: Some(log.clone()),
                        };
                        if let Err(err) = cache::store(&ctx.cache_root, key, &entry) {
                            ctx.emit(RunEvent::Warning {
                                task: Some(self.path.to_owned()),
                                message: format!("could not store its outputs in the cache: {err}"),
                            });
                        }
                    }
                    return Outcome::ok(TaskState::Succeeded, outputs);
                }
                Err(AttemptError::Cancelled) => {
                    return Outcome::bad(TaskState::Cancelled, "the run was cancelled");
                }
                Err(AttemptError::Failed(error)) => {
                    if attempt > max_retries {
                        return self.fail(error);
                    }
                    let delay = backoff(retry, attempt);
                    ctx.emit(RunEvent::TaskRetrying {
                        task: self.path.to_owned(),
                        attempt,
                        error,
                        delay,
                    });
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = ctx.cancel.cancelled() => {
                            return Outcome::bad(TaskState::Cancelled, "the run was cancelled");
                        }
                    }
                }
            }
        }
    }

    /// The executor input: inputs, and where each output goes (`<task dir>/<name>`).
    fn executor_input(&self, inputs: &Values, dir: &Path) -> Value {
        let artifacts: Map<String, Value> = inputs
            .artifacts
            .iter()
            .map(|(name, list)| {
                let list: Vec<Value> = list.iter().map(LocalArtifact::to_runtime).collect();
                (name.clone(), json!({ "artifacts": list }))
            })
            .collect();
        let outputs = self.component.output_definitions.as_ref();
        let out_params: Map<String, Value> = outputs
            .map(|o| &o.parameters)
            .into_iter()
            .flatten()
            .map(|(name, _)| {
                (
                    name.clone(),
                    json!({ "outputFile": dir.join(name).display().to_string() }),
                )
            })
            .collect();
        let out_artifacts: Map<String, Value> = outputs
            .map(|o| &o.artifacts)
            .into_iter()
            .flatten()
            .map(|(name, def)| {
                let ty = def.artifact_type.as_ref();
                let artifact = LocalArtifact {
                    name: name.clone(),
                    uri: dir.join(name).display().to_string(),
                    schema_title: ty
                        .and_then(|t| t.schema_title.clone())
                        .unwrap_or_else(|| "system.Artifact".into()),
                    schema_version: ty.and_then(|t| t.schema_version.clone()),
                    metadata: Map::new(),
                };
                (
                    name.clone(),
                    json!({ "artifacts": [artifact.to_runtime()] }),
                )
            })
            .collect();
        let mut input_section = json!({ "parameterValues": inputs.parameters });
        if !artifacts.is_empty() {
            input_section["artifacts"] = Value::Object(artifacts);
        }
        json!({
            "inputs": input_section,
            "outputs": {
                "parameters": out_params,
                "artifacts": out_artifacts,
                "outputFile": dir.join(EXECUTOR_OUTPUT).display().to_string(),
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        attempt: u32,
        argv: &[String],
        env: &[(String, String)],
        dir: &Path,
        log: &Path,
        timeout: Option<Duration>,
        executor_input: &Value,
    ) -> Result<Values, AttemptError> {
        let ctx = self.ctx;
        self.clear_outputs(dir);
        let permit = tokio::select! {
            permit = ctx.slots.acquire() => permit.map_err(|_| AttemptError::Cancelled)?,
            () = ctx.cancel.cancelled() => return Err(AttemptError::Cancelled),
        };
        ctx.update_record(self.index, |r| r.attempts = attempt);
        ctx.emit(RunEvent::TaskStarted {
            task: self.path.to_owned(),
            kind: self.kind,
            attempt,
        });
        let path = self.path.to_owned();
        let forward = move |line: &str| {
            if let Some(sink) = &ctx.events {
                sink(&RunEvent::TaskLog {
                    task: path.clone(),
                    line: line.to_owned(),
                });
            }
        };
        let on_line: Option<&(dyn Fn(&str) + Send + Sync)> = if ctx.runner.stream_logs {
            Some(&forward)
        } else {
            None
        };
        if attempt > 1 {
            let _ = append(log, &format!("----- attempt {attempt} -----"));
        }
        let result = process::run(Attempt {
            argv,
            env,
            cwd: ctx.runner.working_dir.as_deref(),
            log,
            timeout,
            cancel: &ctx.cancel,
            on_line,
        })
        .await;
        drop(permit);
        let exit = match result {
            Ok(exit) => exit,
            Err(err) => {
                return Err(AttemptError::Failed(format!(
                    "could not run `{}`: {err}",
                    argv[0]
                )));
            }
        };
        if let Exit::Code(code) = exit {
            ctx.update_record(self.index, |r| r.exit_code = Some(code));
        }
        match exit {
            Exit::Code(0) => self
                .collect(dir, executor_input)
                .map_err(AttemptError::Failed),
            Exit::Code(code) => Err(AttemptError::Failed(format!("exited with code {code}"))),
            Exit::Signal(signal) => Err(AttemptError::Failed(format!("killed by signal {signal}"))),
            Exit::TimedOut(limit) => Err(AttemptError::Failed(format!(
                "timed out after {:.1}s and was stopped",
                limit.as_secs_f64()
            ))),
            Exit::Cancelled => Err(AttemptError::Cancelled),
        }
    }

    /// Removes what an earlier attempt wrote, so a retry cannot pass on stale outputs.
    fn clear_outputs(&self, dir: &Path) {
        let _ = std::fs::remove_file(dir.join(EXECUTOR_OUTPUT));
        if let Some(outputs) = &self.component.output_definitions {
            for name in outputs.parameters.keys().chain(outputs.artifacts.keys()) {
                let path = dir.join(name);
                if path.is_dir() {
                    let _ = std::fs::remove_dir_all(&path);
                } else {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }

    /// Reads the outputs: `executor_output.json` (parameters and artifact metadata), then each
    /// output parameter's file.
    fn collect(&self, dir: &Path, executor_input: &Value) -> Result<Values, String> {
        let executor_output_path = dir.join(EXECUTOR_OUTPUT);
        let executor_output: Option<Value> =
            if executor_output_path.is_file() {
                let text = std::fs::read_to_string(&executor_output_path).map_err(|err| {
                    format!("could not read {}: {err}", executor_output_path.display())
                })?;
                Some(serde_json::from_str(&text).map_err(|err| {
                    format!("{} is not JSON: {err}", executor_output_path.display())
                })?)
            } else {
                None
            };
        let mut outputs = Values::default();
        let Some(defs) = &self.component.output_definitions else {
            return Ok(outputs);
        };
        for (name, def) in &defs.parameters {
            let ty =
                value::effective_type(def.parameter_type.as_ref(), def.primitive_type.as_ref());
            let file = dir.join(name);
            let value = if file.is_file() {
                let text = std::fs::read_to_string(&file)
                    .map_err(|err| format!("could not read output `{name}`: {err}"))?;
                value::parse_output_file(&text, ty.as_ref()).map_err(|err| {
                    format!("output parameter `{name}` ({}): {err}", file.display())
                })?
            } else if let Some(value) = executor_output
                .as_ref()
                .and_then(|o| o.pointer("/parameterValues"))
                .and_then(|p| p.get(name))
            {
                value::coerce(value.clone(), ty.as_ref())
                    .map_err(|err| format!("output parameter `{name}`: {err}"))?
            } else {
                return Err(format!(
                    "output parameter `{name}` was not written (expected in {} or {EXECUTOR_OUTPUT})",
                    file.display()
                ));
            };
            outputs.parameters.insert(name.clone(), value);
        }
        for name in defs.artifacts.keys() {
            let declared: Vec<LocalArtifact> = executor_input
                .pointer("/outputs/artifacts")
                .and_then(|a| a.get(name))
                .and_then(|a| a.get("artifacts"))
                .and_then(|a| serde_json::from_value::<Vec<RuntimeArtifact>>(a.clone()).ok())
                .unwrap_or_default()
                .into_iter()
                .map(RuntimeArtifact::into_local)
                .collect();
            let written: Option<Vec<RuntimeArtifact>> = executor_output
                .as_ref()
                .and_then(|o| o.pointer("/artifacts"))
                .and_then(|a| a.get(name))
                .and_then(|a| a.get("artifacts"))
                .map(|a| serde_json::from_value(a.clone()))
                .transpose()
                .map_err(|err| format!("{EXECUTOR_OUTPUT}: artifacts of `{name}`: {err}"))?;
            let list = match written {
                Some(written) => written
                    .into_iter()
                    .enumerate()
                    .map(|(i, found)| {
                        let mut base = declared
                            .get(i)
                            .cloned()
                            .or_else(|| declared.first().cloned());
                        match &mut base {
                            Some(artifact) => {
                                if let Some(uri) = found.uri.filter(|u| !u.is_empty()) {
                                    artifact.uri = uri;
                                }
                                artifact.metadata.extend(found.metadata);
                                artifact.clone()
                            }
                            None => RuntimeArtifact {
                                name: Some(name.clone()),
                                ..found
                            }
                            .into_local(),
                        }
                    })
                    .collect(),
                None => declared,
            };
            outputs.artifacts.insert(name.clone(), list);
        }
        Ok(outputs)
    }
}

/// An artifact as the executor input and output write it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
struct RuntimeArtifact {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    metadata: Map<String, Value>,
    #[serde(default, rename = "type")]
    ty: Option<RuntimeType>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeType {
    #[serde(default)]
    schema_title: Option<String>,
    #[serde(default)]
    schema_version: Option<String>,
}

impl RuntimeArtifact {
    fn into_local(self) -> LocalArtifact {
        let ty = self.ty.unwrap_or_default();
        LocalArtifact {
            name: self.name.unwrap_or_default(),
            uri: self.uri.unwrap_or_default(),
            schema_title: ty.schema_title.unwrap_or_else(|| "system.Artifact".into()),
            schema_version: ty.schema_version,
            metadata: self.metadata,
        }
    }
}

fn append(path: &Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{line}")
}

/// The delay before retry `attempt + 1`: `backoffDuration × backoffFactor^(attempt-1)`, at most
/// `backoffMaxDuration` (KFP's defaults: 0 s, ×2, 1 h).
fn backoff(policy: Option<&RetryPolicy>, attempt: u32) -> Duration {
    let base = policy
        .and_then(|p| p.backoff_duration.as_deref())
        .and_then(parse_duration)
        .unwrap_or(Duration::ZERO);
    let factor = policy
        .and_then(|p| p.backoff_factor)
        .unwrap_or(2.0)
        .max(1.0);
    let max = policy
        .and_then(|p| p.backoff_max_duration.as_deref())
        .and_then(parse_duration)
        .unwrap_or(Duration::from_secs(3600));
    let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let secs = base.as_secs_f64() * factor.powi(exponent);
    if secs.is_nan() || base.is_zero() {
        return Duration::ZERO.min(max);
    }
    Duration::try_from_secs_f64(secs.min(max.as_secs_f64())).unwrap_or(max)
}

/// A protobuf JSON duration: `"1.5s"`.
fn parse_duration(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_the_retry_policy() {
        let mut policy = RetryPolicy::default();
        assert_eq!(backoff(Some(&policy), 1), Duration::ZERO);
        policy.backoff_duration = Some("1s".into());
        policy.backoff_factor = Some(3.0);
        policy.backoff_max_duration = Some("5s".into());
        assert_eq!(backoff(Some(&policy), 1), Duration::from_secs(1));
        assert_eq!(backoff(Some(&policy), 2), Duration::from_secs(3));
        assert_eq!(backoff(Some(&policy), 3), Duration::from_secs(5));
        assert_eq!(parse_duration("0.5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("5m"), None);
        // Absurd values from a file are errors or caps, not panics.
        assert_eq!(parse_duration("1e30s"), None);
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("infs"), None);
        policy.backoff_duration = Some("1s".into());
        policy.backoff_factor = Some(f64::INFINITY);
        policy.backoff_max_duration = Some("7s".into());
        assert_eq!(backoff(Some(&policy), 3), Duration::from_secs(7));
        policy.backoff_duration = Some("0s".into());
        assert_eq!(backoff(Some(&policy), 3), Duration::ZERO);
    }
}
