//! Compiles a [`Pipeline`] to the IR, the way the official KFP compiler does.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

mod channels;
mod condition;
mod executor;
mod loops;
mod nested;
mod outputs;
mod platform;

use executor::{container_component, importer_component};

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::DslError;
use super::component::{ContainerComponent, Importer, IoKind};
use super::kubernetes::KubernetesSetting;
use super::pipeline::{Condition, GroupKind, LoopItems, Pipeline, Source, Task, TaskComponent};
use crate::spec::{
    AcceleratorConfig, ArtifactSelectorSpec, ArtifactTypeSchema, CachingOptions, CompiledPipeline,
    ComponentInputsSpec, ComponentOutputsSpec, ComponentRef, ComponentSpec, ConfigMapAsEnv,
    ConfigMapAsVolume, ConfigMapKeyToEnv, DagOutputArtifactSpec, DagOutputParameterSpec,
    DagOutputsSpec, DagSpec, DeploymentSpec, EnvVar, ExecutorSpec, FieldPathAsEnv, ImagePullSecret,
    ImporterSpec, InputArtifactDefinition, InputArtifactSpec, InputParameterDefinition,
    InputParameterSpec, IteratorPolicy, KubernetesExecutorConfig, OutputArtifactDefinition,
    OutputParameterDefinition, ParameterItemsSpec, ParameterIteratorSpec, ParameterSelectorSpec,
    ParameterSelectorsSpec, ParameterType, PipelineContainerSpec, PipelineInfo, PipelineSpec,
    PipelineTaskInfo, PipelineTaskSpec, PlatformDeploymentConfig, PlatformSpec, PvcMount,
    ResourceSpec, RetryPolicy, SecretAsEnv, SecretAsVolume, SecretKeyToEnv, TaskInputsSpec,
    TriggerPolicy, TriggerStrategy, ValueOrRuntimeParameter,
};

/// The `schemaVersion` written.
pub const SCHEMA_VERSION: &str = "2.1.0";

/// The `sdkVersion` written: `kfp-rs-<crate version>`.
pub const SDK_VERSION: &str = concat!("kfp-rs-", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq)]
enum Consumer {
    Task(usize),
    Group(usize),
}

#[derive(Debug, Clone)]
enum Channel {
    Param {
        name: String,
        ty: ParameterType,
    },
    /// The current artifact of a loop over a list of artifacts.
    LoopArtifact {
        group: usize,
        name: String,
        ty: ArtifactTypeSchema,
    },
    /// An input artifact of the pipeline.
    InputArtifact {
        name: String,
        ty: ArtifactTypeSchema,
        list: bool,
    },
    Output {
        task: usize,
        key: String,
        kind: IoKind,
    },
    LoopItem {
        group: usize,
        name: String,
        ty: ParameterType,
        field: Option<String>,
    },
    /// The output of whichever branch of `branches` ran: `(condition group, task, key)`.
    OneOf {
        branches: usize,
        name: String,
        kind: IoKind,
        members: Vec<(usize, usize, String)>,
    },
    /// The collected outputs of task `task` inside loop `group`.
    Collected {
        group: usize,
        task: usize,
        key: String,
        kind: IoKind,
    },
}

enum Ref {
    ComponentInput(String),
    /// A component input with a CEL selector applied (a field of a loop item).
    ComponentInputSelected(String, String),
    TaskOutput {
        producer: String,
        key: String,
    },
}

struct Compiler<'p> {
    p: &'p Pipeline,
    group_inputs: Vec<ComponentInputsSpec>,
    group_task_inputs: Vec<TaskInputsSpec>,
    group_deps: Vec<BTreeSet<String>>,
    task_deps: Vec<BTreeSet<String>>,
    loop_outputs: Vec<(DagOutputsSpec, ComponentOutputsSpec)>,
}

impl Pipeline {
    /// Validates the pipeline and compiles it to a [`PipelineSpec`], equal to what the official
    /// compiler writes for the same pipeline (apart from `sdkVersion`).
    ///
    /// # Errors
    /// A [`DslError`] naming the task and input at fault: unknown or missing inputs, type
    /// mismatches, outputs used outside their scope, duplicate names, unknown placeholders.
    pub fn compile(&self) -> Result<PipelineSpec, DslError> {
        self.compile_package().map(|package| package.pipeline_spec)
    }

    /// Like [`compile`](Self::compile), also returning the kfp-kubernetes platform spec when
    /// tasks use Kubernetes settings (secrets, PVCs, node selectors, …): the two documents
    /// the official compiler writes.
    ///
    /// # Errors
    /// As [`compile`](Self::compile).
    pub fn compile_package(&self) -> Result<CompiledPipeline, DslError> {
        if let Some(error) = self.errors.first() {
            return Err(error.clone());
        }
        let mut compiler = Compiler {
            p: self,
            group_inputs: vec![ComponentInputsSpec::default(); self.groups.len()],
            group_task_inputs: vec![TaskInputsSpec::default(); self.groups.len()],
            group_deps: vec![BTreeSet::new(); self.groups.len()],
            task_deps: vec![BTreeSet::new(); self.tasks.len()],
            loop_outputs: vec![Default::default(); self.groups.len()],
        };
        let (spec, platform) = compiler.compile()?;
        Ok(CompiledPipeline::new(spec, platform))
    }
}

impl Compiler<'_> {
    fn group_path(&self, group: usize) -> Vec<usize> {
        let mut path = vec![group];
        let mut current = group;
        while let Some(parent) = self.p.groups[current].parent {
            path.push(parent);
            current = parent;
        }
        path.reverse();
        path
    }

    fn consumer_path(&self, consumer: Consumer) -> Vec<usize> {
        match consumer {
            Consumer::Task(t) => self.group_path(self.p.tasks[t].group),
            Consumer::Group(g) => self.group_path(g),
        }
    }

    fn consumer_name(&self, consumer: Consumer) -> String {
        match consumer {
            Consumer::Task(t) => format!("task {}", self.p.tasks[t].name),
            Consumer::Group(g) => format!("group {}", self.p.groups[g].name),
        }
    }

    fn compile(&mut self) -> Result<(PipelineSpec, Option<PlatformSpec>), DslError> {
        let p = self.p;
        // Conditions first: their operands become inputs of the condition groups.
        let mut trigger_conditions: BTreeMap<usize, String> = BTreeMap::new();
        for (g, group) in p.groups.iter().enumerate() {
            if let GroupKind::Condition(conditions) = &group.kind {
                let mut parts = Vec::new();
                for (condition, negate) in conditions {
                    let text = self.condition_text(g, condition)?;
                    parts.push(if *negate { format!("!({text})") } else { text });
                }
                trigger_conditions.insert(g, parts.join(" && "));
            }
        }

        let mut iterators = self.loop_iterators()?;

        let mut components: BTreeMap<String, ComponentSpec> = BTreeMap::new();
        let mut executors: BTreeMap<String, ExecutorSpec> = BTreeMap::new();
        let mut task_specs: Vec<PipelineTaskSpec> = Vec::with_capacity(p.tasks.len());
        let mut platform_executors: BTreeMap<String, KubernetesExecutorConfig> = BTreeMap::new();
        let exit_groups: BTreeMap<usize, usize> = p
            .groups
            .iter()
            .enumerate()
            .filter_map(|(g, group)| match group.kind {
                GroupKind::ExitHandler { exit_task } => Some((exit_task, g)),
                _ => None,
            })
            .collect();

        let mut merged = self.name_components()?;
        components.append(&mut merged.components);
        executors.append(&mut merged.executors);
        platform_executors.append(&mut merged.platform_executors);
        for (t, node) in p.tasks.iter().enumerate() {
            let exit_group = exit_groups.get(&t).copied();
            let (component, executor, inputs) = self.compile_task(t, exit_group)?;
            let names = std::mem::take(&mut merged.names[t]);
            let comp_name = names.component;
            match (executor, names.executor) {
                (Some(executor), Some(exec_name)) => {
                    let mut component = component;
                    component.executor_label = Some(exec_name.clone());
                    components.insert(comp_name.clone(), component);
                    if let Some(config) = self.kubernetes_config(t)? {
                        platform_executors.insert(exec_name.clone(), config);
                    }
                    executors.insert(exec_name, executor);
                }
                _ => {
                    let root = merged.roots.remove(&t).unwrap_or_default();
                    components.insert(comp_name.clone(), root);
                }
            }

            let task = &node.task;
            for after in &task.after {
                if after.pipeline != p.id || after.index >= p.tasks.len() {
                    return Err(DslError::ForeignHandle {
                        what: "task",
                        name: after.name.clone(),
                    });
                }
                self.add_dependency(Consumer::Task(t), after.index);
            }
            let mut spec = PipelineTaskSpec::default();
            spec.task_info = Some(task_info(
                task.display_name.as_deref().unwrap_or(&node.name),
            ));
            spec.component_ref = Some(component_ref(&comp_name));
            spec.inputs =
                (!inputs.parameters.is_empty() || !inputs.artifacts.is_empty()).then_some(inputs);
            let mut caching = CachingOptions::default();
            caching.enable_cache = task.caching.then_some(true);
            spec.caching_options = Some(caching);
            if let Some(retry) = &task.retry {
                let mut policy = RetryPolicy::default();
                policy.max_retry_count = Some(retry.max_retry_count);
                policy.backoff_duration = Some(retry.backoff_duration.clone());
                policy.backoff_factor = Some(retry.backoff_factor);
                policy.backoff_max_duration = Some(retry.backoff_max_duration.clone());
                spec.retry_policy = Some(policy);
            }
            if let Some(g) = exit_group {
                self.task_deps[t].insert(p.groups[g].name.clone());
                let mut trigger = TriggerPolicy::default();
                trigger.strategy = Some(TriggerStrategy::AllUpstreamTasksCompleted);
                spec.trigger_policy = Some(trigger);
            }
            task_specs.push(spec);
        }

        // Channels used by the conditions around a task are threaded to all its groups.
        for t in 0..p.tasks.len() {
            for g in self.group_path(p.tasks[t].group) {
                let GroupKind::Condition(conditions) = &p.groups[g].kind else {
                    continue;
                };
                for (condition, _) in conditions {
                    for source in [&condition.left, &condition.right] {
                        if let Some(channel) = self.channel_of(&p.groups[g].name, source)? {
                            self.thread(Consumer::Task(t), &channel)?;
                        }
                    }
                }
            }
        }

        // Pipeline outputs first: collected and OneOf outputs are declared on their groups.
        let root_outputs = if p.outputs.is_empty() {
            None
        } else {
            Some(self.pipeline_outputs()?)
        };

        // Assemble the DAGs, innermost groups included as tasks of their parents.
        let mut dags: Vec<BTreeMap<String, PipelineTaskSpec>> =
            vec![BTreeMap::new(); p.groups.len()];
        for (t, mut spec) in task_specs.into_iter().enumerate() {
            spec.dependent_tasks = self.task_deps[t].iter().cloned().collect();
            dags[p.tasks[t].group].insert(p.tasks[t].name.clone(), spec);
        }
        for (g, group) in p.groups.iter().enumerate().skip(1) {
            let comp_name = format!("comp-{}", group.name);
            let mut spec = PipelineTaskSpec::default();
            spec.task_info = Some(task_info(
                group.display_name.as_deref().unwrap_or(&group.name),
            ));
            spec.component_ref = Some(component_ref(&comp_name));
            let inputs = std::mem::take(&mut self.group_task_inputs[g]);
            spec.inputs =
                (!inputs.parameters.is_empty() || !inputs.artifacts.is_empty()).then_some(inputs);
            spec.dependent_tasks = self.group_deps[g].iter().cloned().collect();
            if let Some(condition) = trigger_conditions.get(&g) {
                let mut trigger = TriggerPolicy::default();
                trigger.condition = Some(condition.clone());
                spec.trigger_policy = Some(trigger);
            }
            if let Some((iterator, policy)) = iterators.remove(&g) {
                match iterator {
                    loops::Iterator::Parameter(iterator) => {
                        spec.parameter_iterator = Some(iterator)
                    }
                    loops::Iterator::Artifact(iterator) => spec.artifact_iterator = Some(iterator),
                }
                spec.iterator_policy = policy;
            }
            if let Some(parent) = group.parent {
                dags[parent].insert(group.name.clone(), spec);
            }
        }
        for (g, group) in p.groups.iter().enumerate().skip(1) {
            let mut component = ComponentSpec::default();
            let mut dag = DagSpec::default();
            dag.tasks = std::mem::take(&mut dags[g]);
            let (outputs, definitions) = std::mem::take(&mut self.loop_outputs[g]);
            if !outputs.parameters.is_empty() || !outputs.artifacts.is_empty() {
                dag.outputs = Some(outputs);
                component.output_definitions = Some(definitions);
            }
            component.dag = Some(dag);
            let inputs = std::mem::take(&mut self.group_inputs[g]);
            component.input_definitions =
                (!inputs.parameters.is_empty() || !inputs.artifacts.is_empty()).then_some(inputs);
            components.insert(format!("comp-{}", group.name), component);
        }

        let mut root = ComponentSpec::default();
        let mut dag = DagSpec::default();
        dag.tasks = std::mem::take(&mut dags[0]);
        if let Some((outputs, definitions)) = root_outputs {
            dag.outputs = Some(outputs);
            root.output_definitions = Some(definitions);
        }
        root.dag = Some(dag);
        if !p.params.is_empty() {
            let mut inputs = ComponentInputsSpec::default();
            for param in &p.params {
                if let Some((ty, list)) = &param.artifact {
                    let mut def = InputArtifactDefinition::default();
                    def.artifact_type = Some(ty.clone());
                    def.is_artifact_list = list.then_some(true);
                    inputs.artifacts.insert(param.name.clone(), def);
                    continue;
                }
                let mut def = InputParameterDefinition::default();
                def.parameter_type = Some(param.ty.clone());
                if let Some(default) = &param.default {
                    def.default_value = Some(protobuf_value(default));
                    def.is_optional = Some(true);
                }
                inputs.parameters.insert(param.name.clone(), def);
            }
            root.input_definitions = Some(inputs);
        }

        let mut info = PipelineInfo::default();
        info.name = Some(p.name.clone());
        info.description = p.description.clone();
        info.display_name = p.display_name.clone();
        let mut deployment = DeploymentSpec::default();
        deployment.executors = executors;
        let mut spec = PipelineSpec::default();
        spec.pipeline_info = Some(info);
        spec.deployment_spec = Some(deployment);
        spec.components = components;
        spec.root = Some(root);
        spec.schema_version = Some(SCHEMA_VERSION.to_owned());
        spec.sdk_version = Some(SDK_VERSION.to_owned());
        let platform = (!platform_executors.is_empty()).then(|| {
            let mut deployment = PlatformDeploymentConfig::default();
            deployment.executors = platform_executors;
            let mut platform = PlatformSpec::default();
            platform.kubernetes_mut().deployment_spec = Some(deployment);
            platform
        });
        Ok((spec, platform))
    }

    fn compile_task(
        &mut self,
        t: usize,
        exit_group: Option<usize>,
    ) -> Result<(ComponentSpec, Option<ExecutorSpec>, TaskInputsSpec), DslError> {
        let node = &self.p.tasks[t];
        let task = &node.task;
        let (declared_inputs, component_name): (Vec<(String, IoKind)>, String) =
            match &task.component {
                TaskComponent::Container(c) => (c.inputs.clone(), c.name.clone()),
                TaskComponent::Importer(_) => (importer_inputs(), "importer".to_owned()),
                TaskComponent::Pipeline(inner) => (inner.component_inputs(), inner.name.clone()),
            };
        let mut inputs = TaskInputsSpec::default();
        let mut seen = BTreeSet::new();
        for (name, source) in &task.args {
            if !seen.insert(name.clone()) {
                return Err(DslError::DuplicateInput {
                    task: node.name.clone(),
                    input: name.clone(),
                });
            }
            let Some((_, kind)) = declared_inputs.iter().find(|(n, _)| n == name) else {
                return Err(DslError::UnknownInput {
                    task: node.name.clone(),
                    component: component_name,
                    input: name.clone(),
                    known: declared_inputs
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            let mismatch = |got: String| DslError::TypeMismatch {
                task: node.name.clone(),
                input: name.clone(),
                expected: kind.describe(),
                got,
            };
            match self.channel_of(&node.name, source)? {
                None => {
                    let Source::Constant(value) = source else {
                        continue;
                    };
                    let IoKind::Parameter { ty, .. } = kind else {
                        return Err(mismatch(format!("constant {value}")));
                    };
                    if !constant_fits(ty, value) {
                        return Err(mismatch(format!("constant {value}")));
                    }
                    inputs.parameters.insert(
                        name.clone(),
                        InputParameterSpec::constant(protobuf_value(value)),
                    );
                }
                Some(channel) => {
                    check_kind(kind, &channel).map_err(mismatch)?;
                    let reference = self.thread(Consumer::Task(t), &channel)?;
                    if Self::is_artifact(&channel) {
                        inputs
                            .artifacts
                            .insert(name.clone(), artifact_spec(reference));
                    } else {
                        inputs
                            .parameters
                            .insert(name.clone(), parameter_spec(reference));
                    }
                }
            }
        }
        for (name, kind) in &declared_inputs {
            if seen.contains(name) {
                continue;
            }
            match kind {
                IoKind::Parameter {
                    ty: ParameterType::TaskFinalStatus,
                    ..
                } => {
                    if let Some(g) = exit_group {
                        let producer = self.p.groups[g].name.clone();
                        inputs.parameters.insert(
                            name.clone(),
                            InputParameterSpec::task_final_status(producer),
                        );
                    }
                }
                IoKind::Parameter {
                    optional: false, ..
                }
                | IoKind::Artifact {
                    optional: false, ..
                } => {
                    return Err(DslError::MissingInput {
                        task: node.name.clone(),
                        input: name.clone(),
                    });
                }
                _ => {}
            }
        }

        let (component, executor) = match &task.component {
            TaskComponent::Container(c) => {
                let (component, executor) = container_component(c, task, &node.name)?;
                (component, Some(executor))
            }
            TaskComponent::Importer(importer) => {
                let (component, executor) = importer_component(importer, task);
                (component, Some(executor))
            }
            TaskComponent::Pipeline(_) => {
                let container_only = !task.kubernetes.is_empty()
                    || !task.env.is_empty()
                    || task.cpu_limit.is_some()
                    || task.cpu_request.is_some()
                    || task.memory_limit.is_some()
                    || task.memory_request.is_some()
                    || task.accelerator_limit.is_some()
                    || task.accelerator_type.is_some();
                if container_only {
                    return Err(DslError::NotSupported {
                        task: node.name.clone(),
                        message: "resources, env and Kubernetes settings can only be set on \
                                  container tasks, not on a nested pipeline"
                            .into(),
                    });
                }
                (ComponentSpec::default(), None)
            }
        };
        Ok((component, executor, inputs))
    }
}

pub(crate) fn outputs_of(task: &Task) -> Vec<(String, IoKind)> {
    match &task.component {
        TaskComponent::Pipeline(inner) => inner.component_outputs(),
        TaskComponent::Container(c) => c.outputs.clone(),
        TaskComponent::Importer(importer) => vec![(
            "artifact".to_owned(),
            IoKind::Artifact {
                ty: importer.ty.clone(),
                list: false,
                optional: false,
            },
        )],
    }
}

fn importer_inputs() -> Vec<(String, IoKind)> {
    vec![(
        "uri".to_owned(),
        IoKind::Parameter {
            ty: ParameterType::String,
            default: None,
            optional: false,
        },
    )]
}

fn check_kind(expected: &IoKind, channel: &Channel) -> Result<(), String> {
    let got = match channel {
        Channel::Param { ty, .. } => IoKind::Parameter {
            ty: ty.clone(),
            default: None,
            optional: false,
        },
        Channel::InputArtifact { ty, list, .. } => IoKind::Artifact {
            ty: ty.clone(),
            list: *list,
            optional: false,
        },
        Channel::LoopArtifact { ty, .. } => IoKind::Artifact {
            ty: ty.clone(),
            list: false,
            optional: false,
        },
        Channel::LoopItem { ty, field, .. } => IoKind::Parameter {
            ty: if field.is_some() {
                ParameterType::String
            } else {
                ty.clone()
            },
            default: None,
            optional: false,
        },
        Channel::Output { kind, .. }
        | Channel::Collected { kind, .. }
        | Channel::OneOf { kind, .. } => kind.clone(),
    };
    let fits = match (expected, &got) {
        (IoKind::Parameter { ty: want, .. }, IoKind::Parameter { ty: have, .. }) => {
            want == have
                || (*want == ParameterType::NumberDouble && *have == ParameterType::NumberInteger)
        }
        (
            IoKind::Artifact {
                ty: want,
                list: want_list,
                ..
            },
            IoKind::Artifact {
                ty: have,
                list: have_list,
                ..
            },
        ) => {
            want_list == have_list
                && (want.schema_title.as_deref() == Some("system.Artifact")
                    || want.schema_title == have.schema_title)
        }
        _ => false,
    };
    if fits { Ok(()) } else { Err(got.describe()) }
}

fn constant_fits(ty: &ParameterType, value: &Value) -> bool {
    match ty {
        ParameterType::String => value.is_string(),
        ParameterType::NumberInteger => value.is_i64() || value.is_u64(),
        ParameterType::NumberDouble => value.is_number(),
        ParameterType::Boolean => value.is_boolean(),
        ParameterType::List => value.is_array(),
        ParameterType::Struct => value.is_object(),
        _ => true,
    }
}

fn parameter_spec(reference: Ref) -> InputParameterSpec {
    match reference {
        Ref::ComponentInput(name) => InputParameterSpec::component_input(name),
        Ref::ComponentInputSelected(name, selector) => {
            let mut spec = InputParameterSpec::component_input(name);
            spec.parameter_expression_selector = Some(selector);
            spec
        }
        Ref::TaskOutput { producer, key } => InputParameterSpec::task_output(producer, key),
    }
}

fn artifact_spec(reference: Ref) -> InputArtifactSpec {
    match reference {
        Ref::ComponentInput(name) | Ref::ComponentInputSelected(name, _) => {
            InputArtifactSpec::component_input(name)
        }
        Ref::TaskOutput { producer, key } => InputArtifactSpec::task_output(producer, key),
    }
}

fn task_info(name: &str) -> PipelineTaskInfo {
    let mut info = PipelineTaskInfo::default();
    info.name = Some(name.to_owned());
    info
}

fn component_ref(name: &str) -> ComponentRef {
    let mut reference = ComponentRef::default();
    reference.name = Some(name.to_owned());
    reference
}

/// A JSON value as a protobuf `Value` holds it: every number a double.
pub(crate) fn protobuf_value(value: &Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::Array(items) => Value::Array(items.iter().map(protobuf_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), protobuf_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn output_parameter_definition(kind: &IoKind) -> OutputParameterDefinition {
    let mut def = OutputParameterDefinition::default();
    if let IoKind::Parameter { ty, .. } = kind {
        def.parameter_type = Some(ty.clone());
    }
    def
}

fn output_artifact_definition(kind: &IoKind) -> OutputArtifactDefinition {
    let mut def = OutputArtifactDefinition::default();
    if let IoKind::Artifact { ty, list, .. } = kind {
        def.artifact_type = Some(ty.clone());
        def.is_artifact_list = list.then_some(true);
    }
    def
}

/// JSON text as Python's `json.dumps` writes it (`", "` and `": "` separators).
fn python_json_value(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(python_json_value)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), python_json_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}
