//! Checks made before anything runs: the spec is well formed (components, executors and
//! dependencies exist, no cycles), nothing in it needs what a local machine cannot give
//! (volumes, PVC creation, resolvers, containerized Python), and the pipeline arguments match
//! the declared parameters.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::LocalError;
use super::python::{self, PythonKind};
use super::record::{LocalArtifact, Values};
use super::value;
use crate::spec::{ComponentSpec, DagSpec, ExecutorSpec, KubernetesExecutorConfig, PipelineSpec};

/// The kfp-kubernetes executor configs, by executor label.
pub(crate) fn kubernetes_executors(
    platform: Option<&crate::spec::PlatformSpec>,
) -> BTreeMap<String, KubernetesExecutorConfig> {
    platform
        .and_then(|p| p.platforms.get("kubernetes"))
        .and_then(|k| k.deployment_spec.as_ref())
        .map(|d| d.executors.clone())
        .unwrap_or_default()
}

/// What the pre-flight found that the run needs.
#[derive(Debug, Default)]
pub(crate) struct Needs {
    /// Some task is a lightweight Python component (the name of the first one).
    pub python_task: Option<String>,
}

/// The executor of a component, if it has one.
pub(crate) fn executor_of<'a>(
    spec: &'a PipelineSpec,
    component: &ComponentSpec,
) -> Option<(&'a str, &'a ExecutorSpec)> {
    let label = component.executor_label.as_deref()?;
    spec.deployment_spec
        .as_ref()?
        .executors
        .get_key_value(label)
        .map(|(k, v)| (k.as_str(), v))
}

pub(crate) fn check(
    spec: &PipelineSpec,
    platform: &BTreeMap<String, KubernetesExecutorConfig>,
    secrets: &BTreeSet<String>,
    config_maps: &BTreeSet<String>,
) -> Result<Needs, LocalError> {
    let root = spec
        .root
        .as_ref()
        .ok_or_else(|| LocalError::InvalidPipeline {
            at: "root".into(),
            message: "the pipeline has no root component".into(),
        })?;
    let Some(dag) = &root.dag else {
        return Err(LocalError::InvalidPipeline {
            at: "root".into(),
            message: "the root component has no DAG".into(),
        });
    };
    let mut needs = Needs::default();
    let mut seen = BTreeSet::new();
    check_dag(
        spec,
        platform,
        secrets,
        config_maps,
        "root",
        dag,
        &mut needs,
        &mut seen,
    )?;
    Ok(needs)
}

#[allow(clippy::too_many_arguments)]
fn check_dag(
    spec: &PipelineSpec,
    platform: &BTreeMap<String, KubernetesExecutorConfig>,
    secrets: &BTreeSet<String>,
    config_maps: &BTreeSet<String>,
    at: &str,
    dag: &DagSpec,
    needs: &mut Needs,
    seen: &mut BTreeSet<String>,
) -> Result<(), LocalError> {
    for (name, task) in &dag.tasks {
        let here = format!("{at}.dag.tasks.{name}");
        check_name(&here, "task name", name)?;
        for dep in &task.dependent_tasks {
            if !dag.tasks.contains_key(dep) {
                return Err(LocalError::InvalidPipeline {
                    at: here,
                    message: format!("depends on `{dep}`, which is not a task of this DAG"),
                });
            }
        }
        let comp_name = task
            .component_ref
            .as_ref()
            .and_then(|r| r.name.as_deref())
            .ok_or_else(|| LocalError::InvalidPipeline {
                at: here.clone(),
                message: "the task has no componentRef".into(),
            })?;
        let component =
            spec.components
                .get(comp_name)
                .ok_or_else(|| LocalError::InvalidPipeline {
                    at: here.clone(),
                    message: format!("component `{comp_name}` is not in `components`"),
                })?;
        if !seen.insert(comp_name.to_owned()) {
            continue;
        }
        let comp_at = format!("components.{comp_name}");
        // Output names become file names in the task's folder; input names parameters.
        if let Some(outputs) = &component.output_definitions {
            for output in outputs.parameters.keys().chain(outputs.artifacts.keys()) {
                check_name(
                    &format!("{comp_at}.outputDefinitions"),
                    "output name",
                    output,
                )?;
            }
        }
        if let Some(inner) = &component.dag {
            check_dag(
                spec,
                platform,
                secrets,
                config_maps,
                &comp_at,
                inner,
                needs,
                seen,
            )?;
            continue;
        }
        let (label, executor) =
            executor_of(spec, component).ok_or_else(|| LocalError::InvalidPipeline {
                at: comp_at.clone(),
                message: format!(
                    "executor `{}` is not in deploymentSpec.executors",
                    component.executor_label.as_deref().unwrap_or("<none>")
                ),
            })?;
        check_executor(
            name,
            label,
            executor,
            platform.get(label),
            secrets,
            config_maps,
            needs,
        )?;
    }
    check_cycles(at, dag)
}

/// Files the runner writes in a task's folder: no output may take their names.
const RESERVED: [&str; 4] = [
    "task.log",
    "executor_input.json",
    "executor_output.json",
    "ephemeral_component.py",
];

/// A task or output name is a path segment of the run folder: it must stay one.
fn check_name(at: &str, what: &str, name: &str) -> Result<(), LocalError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\', '[', ']', '\0'])
        || RESERVED.contains(&name);
    if bad {
        return Err(LocalError::InvalidPipeline {
            at: at.to_owned(),
            message: format!(
                "{what} {name:?} cannot be a file name in the run folder (empty, `.`/`..`, a path \
                 separator, brackets, or a name the runner uses)"
            ),
        });
    }
    Ok(())
}

fn unsupported(task: &str, feature: String) -> LocalError {
    LocalError::Unsupported {
        task: task.to_owned(),
        feature,
    }
}

fn check_executor(
    task: &str,
    label: &str,
    executor: &ExecutorSpec,
    platform: Option<&KubernetesExecutorConfig>,
    secrets: &BTreeSet<String>,
    config_maps: &BTreeSet<String>,
    needs: &mut Needs,
) -> Result<(), LocalError> {
    if executor.resolver.is_some() {
        return Err(unsupported(
            task,
            format!(
                "executor `{label}` is a resolver (an ML Metadata query), which needs a KFP cluster"
            ),
        ));
    }
    if let Some(container) = &executor.container {
        let image = container.image.as_deref().unwrap_or_default();
        if let Some(what) = image.strip_prefix("argostub/") {
            return Err(unsupported(
                task,
                format!(
                    "it is a kfp-kubernetes `{what}` step (creates or deletes a PersistentVolumeClaim), which needs a cluster"
                ),
            ));
        }
        let full: Vec<String> = container
            .command
            .iter()
            .chain(&container.args)
            .cloned()
            .collect();
        match python::detect(&full) {
            PythonKind::Containerized => {
                return Err(unsupported(
                    task,
                    format!(
                        "it is a containerized Python component: its code is inside the image `{image}`, which the local runner does not pull"
                    ),
                ));
            }
            PythonKind::Lightweight(_) if needs.python_task.is_none() => {
                needs.python_task = Some(task.to_owned());
            }
            _ => {}
        }
        if container.command.is_empty() {
            return Err(unsupported(
                task,
                format!(
                    "it has no command: it runs the entrypoint of the image `{image}` (which the local runner does not pull) with its args"
                ),
            ));
        }
    }
    let Some(config) = platform else {
        return Ok(());
    };
    if let Some(pvc) = config.pvc_mount.first() {
        return Err(unsupported(
            task,
            format!(
                "it mounts a PersistentVolumeClaim at `{}` (kfp-kubernetes mount_pvc); volumes need a cluster",
                pvc.mount_path.as_deref().unwrap_or("?")
            ),
        ));
    }
    if let Some(volume) = config.secret_as_volume.first() {
        return Err(unsupported(
            task,
            format!(
                "it mounts a secret at `{}` (kfp-kubernetes use_secret_as_volume); volumes need a cluster",
                volume.mount_path.as_deref().unwrap_or("?")
            ),
        ));
    }
    if let Some(volume) = config.config_map_as_volume.first() {
        return Err(unsupported(
            task,
            format!(
                "it mounts a config map at `{}` (kfp-kubernetes use_config_map_as_volume); volumes need a cluster",
                volume.mount_path.as_deref().unwrap_or("?")
            ),
        ));
    }
    if !config.generic_ephemeral_volume.is_empty() || !config.empty_dir_mounts.is_empty() {
        return Err(unsupported(
            task,
            "it mounts an ephemeral or emptyDir volume; volumes need a cluster".into(),
        ));
    }
    for env in &config.secret_as_env {
        if let Some(name) = static_name(&env.secret_name, &env.secret_name_parameter)
            && !secrets.contains(&name)
            && env.optional != Some(true)
        {
            return Err(unsupported(
                task,
                format!(
                    "it reads secret `{name}` into its environment; give the runner its values with LocalRunner::secret(\"{name}\", ...)"
                ),
            ));
        }
    }
    for env in &config.config_map_as_env {
        if let Some(name) = static_name(&env.config_map_name, &env.config_map_name_parameter)
            && !config_maps.contains(&name)
            && env.optional != Some(true)
        {
            return Err(unsupported(
                task,
                format!(
                    "it reads config map `{name}` into its environment; give the runner its values with LocalRunner::config_map(\"{name}\", ...)"
                ),
            ));
        }
    }
    Ok(())
}

/// A secret or config-map name known before the run: a fixed name, or a constant parameter.
fn static_name(
    fixed: &Option<String>,
    parameter: &Option<crate::spec::InputParameterSpec>,
) -> Option<String> {
    match parameter {
        None => fixed.clone(),
        Some(param) => match param
            .runtime_value
            .as_ref()
            .and_then(|v| v.constant.as_ref())
        {
            Some(Value::String(name)) => Some(name.clone()),
            _ => None,
        },
    }
}

fn check_cycles(at: &str, dag: &DagSpec) -> Result<(), LocalError> {
    let mut remaining: BTreeMap<&str, BTreeSet<&str>> = dag
        .tasks
        .iter()
        .map(|(name, task)| {
            (
                name.as_str(),
                task.dependent_tasks.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    loop {
        let ready: Vec<&str> = remaining
            .iter()
            .filter(|(_, deps)| deps.is_empty())
            .map(|(name, _)| *name)
            .collect();
        if ready.is_empty() {
            break;
        }
        for name in ready {
            remaining.remove(name);
            for deps in remaining.values_mut() {
                deps.remove(name);
            }
        }
    }
    if remaining.is_empty() {
        Ok(())
    } else {
        let names: Vec<&str> = remaining.keys().copied().collect();
        Err(LocalError::InvalidPipeline {
            at: format!("{at}.dag"),
            message: format!(
                "the tasks {} depend on each other in a cycle",
                names.join(", ")
            ),
        })
    }
}

/// The pipeline's parameters with the arguments given, defaults applied, types checked.
pub(crate) fn arguments(
    spec: &PipelineSpec,
    mut args: BTreeMap<String, Value>,
    mut artifacts: BTreeMap<String, LocalArtifact>,
) -> Result<Values, LocalError> {
    let mut out = Values::default();
    let inputs = spec
        .root
        .as_ref()
        .and_then(|r| r.input_definitions.as_ref());
    let params = inputs.map(|i| &i.parameters);
    for (name, def) in params.into_iter().flatten() {
        let ty = value::effective_type(def.parameter_type.as_ref(), def.primitive_type.as_ref());
        let given = match args.remove(name) {
            Some(value) => Some(value),
            None => def.default_value.clone(),
        };
        match given {
            Some(value) => {
                let value = value::coerce(value, ty.as_ref()).map_err(|message| {
                    LocalError::InvalidArgument {
                        name: name.clone(),
                        message,
                    }
                })?;
                out.parameters.insert(name.clone(), value);
            }
            None if def.is_optional == Some(true) => {}
            None => {
                return Err(LocalError::InvalidArgument {
                    name: name.clone(),
                    message: "required, and the pipeline gives no default".into(),
                });
            }
        }
    }
    let artifact_defs = inputs.map(|i| &i.artifacts);
    for (name, def) in artifact_defs.into_iter().flatten() {
        match artifacts.remove(name) {
            Some(mut artifact) => {
                if let Some(ty) = def
                    .artifact_type
                    .as_ref()
                    .and_then(|t| t.schema_title.clone())
                {
                    artifact.schema_title = ty;
                }
                artifact.name.clone_from(name);
                out.artifacts.insert(name.clone(), vec![artifact]);
            }
            None if def.is_optional == Some(true) => {}
            None => {
                return Err(LocalError::InvalidArgument {
                    name: name.clone(),
                    message: "input artifact required: give it with LocalRun::artifact_arg".into(),
                });
            }
        }
    }
    let known: Vec<&String> = params.into_iter().flatten().map(|(k, _)| k).collect();
    if let Some(name) = args.keys().next().cloned() {
        return Err(LocalError::InvalidArgument {
            name,
            message: format!(
                "the pipeline has no such parameter (it has: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        });
    }
    if let Some(name) = artifacts.keys().next().cloned() {
        return Err(LocalError::InvalidArgument {
            name,
            message: "the pipeline has no such input artifact".into(),
        });
    }
    Ok(out)
}
