//! Compiles a [`Pipeline`] to the IR, the way the official KFP compiler does.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::DslError;
use super::component::{ContainerComponent, Importer, IoKind};
use super::kubernetes::KubernetesSetting;
use super::pipeline::{Condition, GroupKind, LoopItems, Pipeline, Source, Task, TaskComponent};
use crate::spec::{
    AcceleratorConfig, ArtifactSelectorSpec, CachingOptions, ComponentInputsSpec,
    ComponentOutputsSpec, ComponentRef, ComponentSpec, ConfigMapAsEnv, ConfigMapAsVolume,
    ConfigMapKeyToEnv, DagOutputArtifactSpec, DagOutputParameterSpec, DagOutputsSpec, DagSpec,
    DeploymentSpec, EnvVar, ExecutorSpec, FieldPathAsEnv, ImagePullSecret, ImporterSpec,
    InputArtifactDefinition, InputArtifactSpec, InputParameterDefinition, InputParameterSpec,
    IteratorPolicy, KubernetesExecutorConfig, OutputArtifactDefinition, OutputParameterDefinition,
    ParameterItemsSpec, ParameterIteratorSpec, ParameterSelectorSpec, ParameterSelectorsSpec,
    ParameterType, PipelineContainerSpec, PipelineInfo, PipelinePackage, PipelineSpec,
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
    Output {
        task: usize,
        key: String,
        kind: IoKind,
    },
    LoopItem {
        group: usize,
        name: String,
        ty: ParameterType,
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
    TaskOutput { producer: String, key: String },
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
    pub fn compile_package(&self) -> Result<PipelinePackage, DslError> {
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
        Ok(PipelinePackage::new(spec, platform))
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

    /// Records that `consumer` runs after task `producer`, between their uncommon ancestors.
    fn add_dependency(&mut self, consumer: Consumer, producer: usize) {
        let producer_path = self.group_path(self.p.tasks[producer].group);
        let name = self.p.tasks[producer].name.clone();
        self.add_dependency_on(consumer, &name, &producer_path);
    }

    /// Records that `consumer` runs after the task or group `producer` placed in the group
    /// path `producer_path`.
    fn add_dependency_on(&mut self, consumer: Consumer, producer: &str, producer_path: &[usize]) {
        let consumer_path = self.consumer_path(consumer);
        let common = consumer_path
            .iter()
            .zip(producer_path)
            .take_while(|(a, b)| a == b)
            .count();
        let up = if common == producer_path.len() {
            producer.to_owned()
        } else {
            self.p.groups[producer_path[common]].name.clone()
        };
        let down = if common == consumer_path.len() {
            consumer
        } else {
            Consumer::Group(consumer_path[common])
        };
        match down {
            Consumer::Task(t) => self.task_deps[t].insert(up),
            Consumer::Group(g) => self.group_deps[g].insert(up),
        };
    }

    fn channel_name(&self, channel: &Channel) -> String {
        match channel {
            Channel::Param { name, .. } => format!("pipelinechannel--{name}"),
            Channel::Output { task, key, .. } | Channel::Collected { task, key, .. } => {
                format!("pipelinechannel--{}-{key}", self.p.tasks[*task].name)
            }
            Channel::LoopItem { name, .. } | Channel::OneOf { name, .. } => name.clone(),
        }
    }

    fn is_artifact(channel: &Channel) -> bool {
        matches!(
            channel,
            Channel::Output {
                kind: IoKind::Artifact { .. },
                ..
            } | Channel::Collected {
                kind: IoKind::Artifact { .. },
                ..
            } | Channel::OneOf {
                kind: IoKind::Artifact { .. },
                ..
            }
        )
    }

    fn declare_group_input(&mut self, group: usize, name: &str, channel: &Channel) {
        let inputs = &mut self.group_inputs[group];
        match channel {
            Channel::Param { ty, .. }
            | Channel::LoopItem { ty, .. }
            | Channel::Output {
                kind: IoKind::Parameter { ty, .. },
                ..
            }
            | Channel::Collected {
                kind: IoKind::Parameter { ty, .. },
                ..
            }
            | Channel::OneOf {
                kind: IoKind::Parameter { ty, .. },
                ..
            } => {
                let mut def = InputParameterDefinition::default();
                def.parameter_type = Some(ty.clone());
                inputs.parameters.insert(name.to_owned(), def);
            }
            Channel::Output {
                kind: IoKind::Artifact { ty, list, .. },
                ..
            }
            | Channel::Collected {
                kind: IoKind::Artifact { ty, list, .. },
                ..
            }
            | Channel::OneOf {
                kind: IoKind::Artifact { ty, list, .. },
                ..
            } => {
                let mut def = InputArtifactDefinition::default();
                def.artifact_type = Some(ty.clone());
                def.is_artifact_list = list.then_some(true);
                inputs.artifacts.insert(name.to_owned(), def);
            }
        }
    }

    fn set_group_task_input(&mut self, group: usize, name: &str, artifact: bool, reference: Ref) {
        let inputs = &mut self.group_task_inputs[group];
        if artifact {
            inputs
                .artifacts
                .insert(name.to_owned(), artifact_spec(reference));
        } else {
            inputs
                .parameters
                .insert(name.to_owned(), parameter_spec(reference));
        }
    }

    /// Threads `channel` through the groups down to `consumer` and returns how the consumer
    /// refers to it.
    fn thread(&mut self, consumer: Consumer, channel: &Channel) -> Result<Ref, DslError> {
        let path = self.consumer_path(consumer);
        let pc = self.channel_name(channel);
        let artifact = Self::is_artifact(channel);
        match channel {
            Channel::Param { name, .. } => {
                if path.len() == 1 {
                    return Ok(Ref::ComponentInput(name.clone()));
                }
                for (i, group) in path.iter().enumerate().skip(1) {
                    self.declare_group_input(*group, &pc, channel);
                    let source = if i == 1 { name.clone() } else { pc.clone() };
                    self.set_group_task_input(*group, &pc, artifact, Ref::ComponentInput(source));
                }
                Ok(Ref::ComponentInput(pc))
            }
            Channel::LoopItem { group, name, .. } => {
                let Some(position) = path.iter().position(|g| g == group) else {
                    return Err(DslError::OutOfScope {
                        task: self.consumer_name(consumer),
                        producer: format!("the item of {}", self.p.groups[*group].name),
                        scope: self.p.groups[*group].name.clone(),
                    });
                };
                for group in path.iter().skip(position + 1) {
                    self.declare_group_input(*group, &pc, channel);
                    self.set_group_task_input(
                        *group,
                        &pc,
                        artifact,
                        Ref::ComponentInput(pc.clone()),
                    );
                }
                Ok(Ref::ComponentInput(name.clone()))
            }
            Channel::OneOf { branches, name, .. } => {
                if path.contains(branches) {
                    return Err(DslError::OutOfScope {
                        task: self.consumer_name(consumer),
                        producer: name.clone(),
                        scope: self.p.groups[*branches].name.clone(),
                    });
                }
                self.declare_one_of(channel);
                let parent = self.p.groups[*branches].parent.unwrap_or(0);
                let producer = self.p.groups[*branches].name.clone();
                let producer_path = self.group_path(parent);
                self.thread_from(
                    consumer,
                    &path,
                    &pc,
                    artifact,
                    channel,
                    producer,
                    producer_path,
                    pc.clone(),
                    name,
                )
            }
            Channel::Output { task, key, .. } | Channel::Collected { task, key, .. } => {
                let (producer, producer_path, out_key) = match channel {
                    Channel::Collected { group, .. } => {
                        if path.contains(group) {
                            return Err(DslError::OutOfScope {
                                task: self.consumer_name(consumer),
                                producer: format!(
                                    "the collected outputs of {}",
                                    self.p.tasks[*task].name
                                ),
                                scope: self.p.groups[*group].name.clone(),
                            });
                        }
                        self.declare_loop_output(*group, *task, key, &pc, channel);
                        let parent = self.p.groups[*group].parent.unwrap_or(0);
                        (
                            self.p.groups[*group].name.clone(),
                            self.group_path(parent),
                            pc.clone(),
                        )
                    }
                    _ => (
                        self.p.tasks[*task].name.clone(),
                        self.group_path(self.p.tasks[*task].group),
                        key.clone(),
                    ),
                };
                let task_name = self.p.tasks[*task].name.clone();
                self.thread_from(
                    consumer,
                    &path,
                    &pc,
                    artifact,
                    channel,
                    producer,
                    producer_path,
                    out_key,
                    &task_name,
                )
            }
        }
    }

    /// Threads an output of `producer` (a task or group placed in `producer_path`) down to
    /// `consumer` (whose group path is `path`).
    #[allow(clippy::too_many_arguments)]
    fn thread_from(
        &mut self,
        consumer: Consumer,
        path: &[usize],
        pc: &str,
        artifact: bool,
        channel: &Channel,
        producer: String,
        producer_path: Vec<usize>,
        out_key: String,
        producer_label: &str,
    ) -> Result<Ref, DslError> {
        let pc = pc.to_owned();
        if !path.starts_with(&producer_path) {
            let scope = producer_path.last().copied().unwrap_or(0);
            return Err(DslError::OutOfScope {
                task: self.consumer_name(consumer),
                producer: producer_label.to_owned(),
                scope: self.p.groups[scope].name.clone(),
            });
        }
        if producer_path.len() == path.len() {
            self.add_dependency_on(consumer, &producer, &producer_path);
            return Ok(Ref::TaskOutput {
                producer,
                key: out_key,
            });
        }
        let first = producer_path.len();
        for (i, group) in path.iter().enumerate().skip(first) {
            self.declare_group_input(*group, &pc, channel);
            let reference = if i == first {
                Ref::TaskOutput {
                    producer: producer.clone(),
                    key: out_key.clone(),
                }
            } else {
                Ref::ComponentInput(pc.clone())
            };
            self.set_group_task_input(*group, &pc, artifact, reference);
        }
        self.add_dependency_on(Consumer::Group(path[first]), &producer, &producer_path);
        Ok(Ref::ComponentInput(pc))
    }

    /// Declares the outputs behind a `dsl.OneOf`: each branch exposes its task's output, the
    /// branches group selects the one that ran.
    fn declare_one_of(&mut self, channel: &Channel) {
        let Channel::OneOf {
            branches,
            name,
            kind,
            members,
        } = channel
        else {
            return;
        };
        let artifact = kind.is_artifact();
        let mut artifact_selectors = Vec::new();
        let mut parameter_selectors = Vec::new();
        for (condition, task, key) in members {
            let member_pc = format!("pipelinechannel--{}-{key}", self.p.tasks[*task].name);
            let producer = self.p.tasks[*task].name.clone();
            let (outputs, definitions) = &mut self.loop_outputs[*condition];
            if artifact {
                let mut selector = ArtifactSelectorSpec::default();
                selector.producer_subtask = Some(producer);
                selector.output_artifact_key = Some(key.clone());
                let mut output = DagOutputArtifactSpec::default();
                output.artifact_selectors = vec![selector];
                outputs.artifacts.insert(member_pc.clone(), output);
                definitions
                    .artifacts
                    .insert(member_pc.clone(), output_artifact_definition(kind));
            } else {
                let mut selector = ParameterSelectorSpec::default();
                selector.producer_subtask = Some(producer);
                selector.output_parameter_key = Some(key.clone());
                let mut output = DagOutputParameterSpec::default();
                output.value_from_parameter = Some(selector);
                outputs.parameters.insert(member_pc.clone(), output);
                definitions
                    .parameters
                    .insert(member_pc.clone(), output_parameter_definition(kind));
            }
            let condition_name = self.p.groups[*condition].name.clone();
            if artifact {
                let mut selector = ArtifactSelectorSpec::default();
                selector.producer_subtask = Some(condition_name);
                selector.output_artifact_key = Some(member_pc);
                artifact_selectors.push(selector);
            } else {
                let mut selector = ParameterSelectorSpec::default();
                selector.producer_subtask = Some(condition_name);
                selector.output_parameter_key = Some(member_pc);
                parameter_selectors.push(selector);
            }
        }
        let (outputs, definitions) = &mut self.loop_outputs[*branches];
        if artifact {
            let mut output = DagOutputArtifactSpec::default();
            output.artifact_selectors = artifact_selectors;
            outputs.artifacts.insert(name.clone(), output);
            definitions
                .artifacts
                .insert(name.clone(), output_artifact_definition(kind));
        } else {
            let mut selectors = ParameterSelectorsSpec::default();
            selectors.parameter_selectors = parameter_selectors;
            let mut output = DagOutputParameterSpec::default();
            output.value_from_oneof = Some(selectors);
            outputs.parameters.insert(name.clone(), output);
            definitions
                .parameters
                .insert(name.clone(), output_parameter_definition(kind));
        }
    }

    /// Declares the collected output `pc` of loop `group`, from output `key` of `task`.
    fn declare_loop_output(
        &mut self,
        group: usize,
        task: usize,
        key: &str,
        pc: &str,
        channel: &Channel,
    ) {
        let producer = self.p.tasks[task].name.clone();
        let (outputs, definitions) = &mut self.loop_outputs[group];
        match channel {
            Channel::Collected {
                kind: IoKind::Artifact { ty, .. },
                ..
            } => {
                let mut selector = ArtifactSelectorSpec::default();
                selector.producer_subtask = Some(producer);
                selector.output_artifact_key = Some(key.to_owned());
                let mut output = DagOutputArtifactSpec::default();
                output.artifact_selectors = vec![selector];
                outputs.artifacts.insert(pc.to_owned(), output);
                let mut def = OutputArtifactDefinition::default();
                def.artifact_type = Some(ty.clone());
                def.is_artifact_list = Some(true);
                definitions.artifacts.insert(pc.to_owned(), def);
            }
            _ => {
                let mut selector = ParameterSelectorSpec::default();
                selector.producer_subtask = Some(producer);
                selector.output_parameter_key = Some(key.to_owned());
                let mut output = DagOutputParameterSpec::default();
                output.value_from_parameter = Some(selector);
                outputs.parameters.insert(pc.to_owned(), output);
                let mut def = OutputParameterDefinition::default();
                def.parameter_type = Some(ParameterType::List);
                definitions.parameters.insert(pc.to_owned(), def);
            }
        }
    }

    /// The channel of a non-constant source, checked to belong to this pipeline.
    fn channel_of(&self, consumer: &str, source: &Source) -> Result<Option<Channel>, DslError> {
        match source {
            Source::Constant(_) => Ok(None),
            Source::Parameter(param) => {
                let def = self.p.params.iter().find(|d| d.name == param.name);
                match def {
                    Some(def) if param.pipeline == self.p.id => Ok(Some(Channel::Param {
                        name: def.name.clone(),
                        ty: def.ty.clone(),
                    })),
                    _ => Err(DslError::ForeignHandle {
                        what: "pipeline parameter",
                        name: param.name.clone(),
                    }),
                }
            }
            Source::TaskOutput { task, key } => {
                if task.pipeline != self.p.id || task.index >= self.p.tasks.len() {
                    return Err(DslError::ForeignHandle {
                        what: "task",
                        name: task.name.clone(),
                    });
                }
                let outputs = outputs_of(&self.p.tasks[task.index].task);
                match outputs.iter().find(|(name, _)| name == key) {
                    Some((_, kind)) => Ok(Some(Channel::Output {
                        task: task.index,
                        key: key.clone(),
                        kind: kind.clone(),
                    })),
                    None => Err(DslError::UnknownOutput {
                        task: consumer.to_owned(),
                        producer: task.name.clone(),
                        output: key.clone(),
                        known: outputs
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
            Source::OneOf {
                pipeline,
                id,
                sources,
            } => {
                let invalid = |message: String| DslError::InvalidOneOf {
                    task: consumer.to_owned(),
                    message,
                };
                if *pipeline != self.p.id {
                    return Err(DslError::ForeignHandle {
                        what: "OneOf",
                        name: format!("#{id}"),
                    });
                }
                let mut members = Vec::new();
                let mut branches_group = None;
                let mut kind: Option<IoKind> = None;
                for source in sources {
                    let Some(Channel::Output {
                        task,
                        key,
                        kind: member_kind,
                    }) = self.channel_of(consumer, source)?
                    else {
                        return Err(invalid(
                            "each value of a OneOf is an output of a task".into(),
                        ));
                    };
                    let condition = self.p.tasks[task].group;
                    let parent = self.p.groups[condition].parent;
                    let in_branch =
                        matches!(self.p.groups[condition].kind, GroupKind::Condition(_))
                            && parent.is_some_and(|g| {
                                matches!(self.p.groups[g].kind, GroupKind::Branches)
                            });
                    if !in_branch {
                        return Err(invalid(format!(
                            "task {} is not directly inside a branch of an if / elif / else chain",
                            self.p.tasks[task].name
                        )));
                    }
                    if branches_group.is_some_and(|b| Some(b) != parent) {
                        return Err(invalid(
                            "all values of a OneOf come from the same if / elif / else chain"
                                .into(),
                        ));
                    }
                    if members.iter().any(|(c, _, _)| *c == condition) {
                        return Err(invalid("a OneOf takes one value per branch".into()));
                    }
                    let member_kind = match member_kind {
                        IoKind::Parameter { ty, .. } => IoKind::Parameter {
                            ty,
                            default: None,
                            optional: false,
                        },
                        IoKind::Artifact { ty, list, .. } => IoKind::Artifact {
                            ty,
                            list,
                            optional: false,
                        },
                    };
                    if kind.as_ref().is_some_and(|k| *k != member_kind) {
                        return Err(invalid("all values of a OneOf have the same type".into()));
                    }
                    kind = Some(member_kind);
                    branches_group = parent;
                    members.push((condition, task, key));
                }
                let (Some(branches), Some(kind)) = (branches_group, kind) else {
                    return Err(invalid("a OneOf needs at least one value".into()));
                };
                let name = format!(
                    "pipelinechannel--{}-oneof-{id}",
                    self.p.groups[branches].name
                );
                Ok(Some(Channel::OneOf {
                    branches,
                    name,
                    kind,
                    members,
                }))
            }
            Source::LoopItem(item) => {
                if item.pipeline != self.p.id || item.group >= self.p.groups.len() {
                    return Err(DslError::ForeignHandle {
                        what: "loop item",
                        name: item.name.clone(),
                    });
                }
                Ok(Some(Channel::LoopItem {
                    group: item.group,
                    name: item.name.clone(),
                    ty: item.ty.clone(),
                }))
            }
            Source::Collected { task, key } => {
                let single = self.channel_of(
                    consumer,
                    &Source::TaskOutput {
                        task: task.clone(),
                        key: key.clone(),
                    },
                )?;
                let Some(Channel::Output { kind, .. }) = single else {
                    return Ok(None);
                };
                let group = self.p.tasks[task.index].group;
                if !matches!(self.p.groups[group].kind, GroupKind::Loop { .. }) {
                    return Err(DslError::NotInLoop {
                        task: consumer.to_owned(),
                        producer: task.name.clone(),
                    });
                }
                let kind = match kind {
                    IoKind::Parameter { .. } => IoKind::Parameter {
                        ty: ParameterType::List,
                        default: None,
                        optional: false,
                    },
                    IoKind::Artifact { ty, .. } => IoKind::Artifact {
                        ty,
                        list: true,
                        optional: false,
                    },
                };
                Ok(Some(Channel::Collected {
                    group,
                    task: task.index,
                    key: key.clone(),
                    kind,
                }))
            }
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

        // Loops: the item is an input of the loop group, the items come from a channel or a
        // literal list.
        let mut iterators: BTreeMap<usize, (ParameterIteratorSpec, Option<IteratorPolicy>)> =
            BTreeMap::new();
        for (g, group) in p.groups.iter().enumerate() {
            let GroupKind::Loop {
                items,
                item_name,
                item_type,
                parallelism,
            } = &group.kind
            else {
                continue;
            };
            let mut def = InputParameterDefinition::default();
            def.parameter_type = Some(item_type.clone());
            self.group_inputs[g]
                .parameters
                .insert(item_name.clone(), def);
            let mut items_spec = ParameterItemsSpec::default();
            match items {
                LoopItems::Raw(values) => {
                    items_spec.raw = Some(python_json_value(&Value::Array(values.clone())))
                }
                LoopItems::Source(source) => {
                    let Some(channel) = self.channel_of(&group.name, source)? else {
                        return Err(DslError::InvalidLoop {
                            group: group.name.clone(),
                            message: "loop over a literal list with parallel_for_items".into(),
                        });
                    };
                    let is_list = match &channel {
                        Channel::Param { ty, .. } | Channel::LoopItem { ty, .. } => {
                            *ty == ParameterType::List
                        }
                        Channel::Output {
                            kind: IoKind::Parameter { ty, .. },
                            ..
                        } => *ty == ParameterType::List,
                        _ => false,
                    };
                    if !is_list {
                        return Err(DslError::InvalidLoop {
                            group: group.name.clone(),
                            message: "the items must be a LIST parameter".into(),
                        });
                    }
                    self.thread(Consumer::Group(g), &channel)?;
                    items_spec.input_parameter = Some(self.channel_name(&channel));
                }
            }
            let mut iterator = ParameterIteratorSpec::default();
            iterator.items = Some(items_spec);
            iterator.item_input = Some(item_name.clone());
            let policy = parallelism.filter(|n| *n > 0).map(|n| {
                let mut policy = IteratorPolicy::default();
                policy.parallelism_limit = Some(i32::try_from(n).unwrap_or(i32::MAX));
                policy
            });
            iterators.insert(g, (iterator, policy));
        }

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

        for (t, node) in p.tasks.iter().enumerate() {
            let exit_group = exit_groups.get(&t).copied();
            let (component, executor, inputs) = self.compile_task(t, exit_group)?;
            let comp_name = format!("comp-{}", node.name);
            let exec_name = format!("exec-{}", node.name);
            let mut component = component;
            component.executor_label = Some(exec_name.clone());
            components.insert(comp_name.clone(), component);
            if let Some(config) = self.kubernetes_config(t)? {
                platform_executors.insert(exec_name.clone(), config);
            }
            executors.insert(exec_name, executor);

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
                spec.parameter_iterator = Some(iterator);
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
        if !p.outputs.is_empty() {
            let (outputs, definitions) = self.pipeline_outputs()?;
            dag.outputs = Some(outputs);
            root.output_definitions = Some(definitions);
        }
        root.dag = Some(dag);
        if !p.params.is_empty() {
            let mut inputs = ComponentInputsSpec::default();
            for param in &p.params {
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

    /// The pipeline outputs: selectors in the root DAG and their definitions.
    fn pipeline_outputs(&self) -> Result<(DagOutputsSpec, ComponentOutputsSpec), DslError> {
        let mut outputs = DagOutputsSpec::default();
        let mut definitions = ComponentOutputsSpec::default();
        for (name, source) in &self.p.outputs {
            let invalid = |message: String| DslError::InvalidOutput {
                output: name.clone(),
                message,
            };
            let channel = self.channel_of(&format!("pipeline output {name}"), source)?;
            let Some(Channel::Output { task, key, kind }) = channel else {
                return Err(invalid("a pipeline output is an output of a task".into()));
            };
            if self.p.tasks[task].group != 0 {
                return Err(invalid(format!(
                    "task {} is inside {}; pipeline outputs come from top-level tasks",
                    self.p.tasks[task].name, self.p.groups[self.p.tasks[task].group].name
                )));
            }
            let producer = self.p.tasks[task].name.clone();
            match kind {
                IoKind::Parameter { ty, .. } => {
                    let mut selector = ParameterSelectorSpec::default();
                    selector.producer_subtask = Some(producer);
                    selector.output_parameter_key = Some(key);
                    let mut output = DagOutputParameterSpec::default();
                    output.value_from_parameter = Some(selector);
                    outputs.parameters.insert(name.clone(), output);
                    let mut def = OutputParameterDefinition::default();
                    def.parameter_type = Some(ty);
                    definitions.parameters.insert(name.clone(), def);
                }
                IoKind::Artifact { ty, list, .. } => {
                    let mut selector = ArtifactSelectorSpec::default();
                    selector.producer_subtask = Some(producer);
                    selector.output_artifact_key = Some(key);
                    let mut output = DagOutputArtifactSpec::default();
                    output.artifact_selectors = vec![selector];
                    outputs.artifacts.insert(name.clone(), output);
                    let mut def = OutputArtifactDefinition::default();
                    def.artifact_type = Some(ty);
                    def.is_artifact_list = list.then_some(true);
                    definitions.artifacts.insert(name.clone(), def);
                }
            }
        }
        Ok((outputs, definitions))
    }

    /// How a Kubernetes setting refers to a name given as a constant, parameter or output.
    fn platform_parameter(
        &mut self,
        t: usize,
        source: &Source,
    ) -> Result<InputParameterSpec, DslError> {
        let name = self.p.tasks[t].name.clone();
        match self.channel_of(&name, source)? {
            None => match source {
                Source::Constant(value) => Ok(InputParameterSpec::constant(value.clone())),
                _ => Ok(InputParameterSpec::default()),
            },
            Some(channel) => {
                if Self::is_artifact(&channel) {
                    return Err(DslError::TypeMismatch {
                        task: name,
                        input: "a Kubernetes setting".into(),
                        expected: "parameter STRING".into(),
                        got: "an artifact".into(),
                    });
                }
                let reference = self.thread(Consumer::Task(t), &channel)?;
                Ok(parameter_spec(reference))
            }
        }
    }

    fn kubernetes_config(
        &mut self,
        t: usize,
    ) -> Result<Option<KubernetesExecutorConfig>, DslError> {
        let settings = self.p.tasks[t].task.kubernetes.clone();
        if settings.is_empty() {
            return Ok(None);
        }
        let mut config = KubernetesExecutorConfig::default();
        for setting in settings {
            match setting {
                KubernetesSetting::SecretAsEnv {
                    secret,
                    keys,
                    optional,
                } => {
                    let mut item = SecretAsEnv::default();
                    item.secret_name = constant_name(&secret);
                    item.secret_name_parameter = Some(self.platform_parameter(t, &secret)?);
                    item.key_to_env = keys
                        .into_iter()
                        .map(|(key, env)| {
                            let mut map = SecretKeyToEnv::default();
                            map.secret_key = Some(key);
                            map.env_var = Some(env);
                            map
                        })
                        .collect();
                    item.optional = Some(optional);
                    config.secret_as_env.push(item);
                }
                KubernetesSetting::SecretAsVolume {
                    secret,
                    mount_path,
                    optional,
                } => {
                    let mut item = SecretAsVolume::default();
                    item.secret_name = constant_name(&secret);
                    item.secret_name_parameter = Some(self.platform_parameter(t, &secret)?);
                    item.mount_path = Some(mount_path);
                    item.optional = Some(optional);
                    config.secret_as_volume.push(item);
                }
                KubernetesSetting::Pvc {
                    pvc,
                    mount_path,
                    sub_path,
                } => {
                    let mut item = PvcMount::default();
                    let parameter = self.platform_parameter(t, &pvc)?;
                    item.constant = constant_name(&pvc);
                    item.component_input_parameter = parameter.component_input_parameter.clone();
                    item.task_output_parameter = parameter.task_output_parameter.clone();
                    item.pvc_name_parameter = Some(parameter);
                    item.mount_path = Some(mount_path);
                    item.sub_path = sub_path;
                    config.pvc_mount.push(item);
                }
                KubernetesSetting::ConfigMapAsEnv {
                    config_map,
                    keys,
                    optional,
                } => {
                    let mut item = ConfigMapAsEnv::default();
                    item.config_map_name = constant_name(&config_map);
                    item.config_map_name_parameter = Some(self.platform_parameter(t, &config_map)?);
                    item.key_to_env = keys
                        .into_iter()
                        .map(|(key, env)| {
                            let mut map = ConfigMapKeyToEnv::default();
                            map.config_map_key = Some(key);
                            map.env_var = Some(env);
                            map
                        })
                        .collect();
                    item.optional = Some(optional);
                    config.config_map_as_env.push(item);
                }
                KubernetesSetting::ConfigMapAsVolume {
                    config_map,
                    mount_path,
                    optional,
                } => {
                    let mut item = ConfigMapAsVolume::default();
                    item.config_map_name = constant_name(&config_map);
                    item.config_map_name_parameter = Some(self.platform_parameter(t, &config_map)?);
                    item.mount_path = Some(mount_path);
                    item.optional = Some(optional);
                    config.config_map_as_volume.push(item);
                }
                KubernetesSetting::NodeSelector { key, value } => {
                    config
                        .node_selector
                        .get_or_insert_with(Default::default)
                        .labels
                        .insert(key, value);
                }
                KubernetesSetting::Toleration(toleration) => {
                    let mut item = crate::spec::Toleration::default();
                    item.key = toleration.key;
                    item.operator = Some(toleration.operator);
                    item.value = toleration.value;
                    item.effect = toleration.effect;
                    item.toleration_seconds =
                        toleration.seconds.map(|s| Value::String(s.to_string()));
                    config.tolerations.push(item);
                }
                KubernetesSetting::ImagePullSecret(name) => {
                    let mut item = ImagePullSecret::default();
                    item.secret_name_parameter =
                        Some(InputParameterSpec::constant(Value::String(name.clone())));
                    item.secret_name = Some(name);
                    config.image_pull_secret.push(item);
                }
                KubernetesSetting::PodLabel { key, value } => {
                    config
                        .pod_metadata
                        .get_or_insert_with(Default::default)
                        .labels
                        .insert(key, value);
                }
                KubernetesSetting::PodAnnotation { key, value } => {
                    config
                        .pod_metadata
                        .get_or_insert_with(Default::default)
                        .annotations
                        .insert(key, value);
                }
                KubernetesSetting::Timeout(seconds) => {
                    config.active_deadline_seconds = Some(Value::String(seconds.to_string()));
                }
                KubernetesSetting::FieldPathAsEnv { name, field_path } => {
                    let mut item = FieldPathAsEnv::default();
                    item.name = Some(name);
                    item.field_path = Some(field_path);
                    config.field_path_as_env.push(item);
                }
                KubernetesSetting::ImagePullPolicy(policy) => {
                    config.image_pull_policy = Some(policy);
                }
            }
        }
        Ok(Some(config))
    }

    fn compile_task(
        &mut self,
        t: usize,
        exit_group: Option<usize>,
    ) -> Result<(ComponentSpec, ExecutorSpec, TaskInputsSpec), DslError> {
        let node = &self.p.tasks[t];
        let task = &node.task;
        let (declared_inputs, component_name): (Vec<(String, IoKind)>, String) =
            match &task.component {
                TaskComponent::Container(c) => (c.inputs.clone(), c.name.clone()),
                TaskComponent::Importer(_) => (importer_inputs(), "importer".to_owned()),
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
            TaskComponent::Container(c) => container_component(c, task, &node.name)?,
            TaskComponent::Importer(importer) => importer_component(importer, task),
        };
        Ok((component, executor, inputs))
    }

    fn condition_text(&mut self, group: usize, condition: &Condition) -> Result<String, DslError> {
        let mut operands = Vec::new();
        for source in [&condition.left, &condition.right] {
            let group_name = self.p.groups[group].name.clone();
            let invalid = |message: String| DslError::InvalidCondition {
                group: group_name.clone(),
                message,
            };
            let operand = match self.channel_of(&group_name, source)? {
                None => {
                    let Source::Constant(value) = source else {
                        continue;
                    };
                    match value {
                        Value::String(s) => (format!("'{s}'"), ParameterType::String),
                        Value::Bool(b) => (b.to_string(), ParameterType::Boolean),
                        Value::Number(n) if n.is_i64() || n.is_u64() => {
                            (n.to_string(), ParameterType::NumberInteger)
                        }
                        Value::Number(n) => (
                            python_float(n.as_f64().unwrap_or(0.0)),
                            ParameterType::NumberDouble,
                        ),
                        other => {
                            return Err(invalid(format!("cannot compare the constant {other}")));
                        }
                    }
                }
                Some(channel) => {
                    let ty = match &channel {
                        Channel::Param { ty, .. }
                        | Channel::LoopItem { ty, .. }
                        | Channel::Output {
                            kind: IoKind::Parameter { ty, .. },
                            ..
                        } => ty.clone(),
                        Channel::OneOf { name, .. } => {
                            return Err(invalid(format!(
                                "{name}: conditions on dsl.OneOf are not supported"
                            )));
                        }
                        Channel::Collected { key, .. } => {
                            return Err(invalid(format!(
                                "collected output {key} is a list, conditions compare single values"
                            )));
                        }
                        Channel::Output { key, .. } => {
                            return Err(invalid(format!(
                                "{key} is an artifact, conditions compare parameters"
                            )));
                        }
                    };
                    let mut text =
                        format!("inputs.parameter_values['{}']", self.channel_name(&channel));
                    if ty == ParameterType::NumberInteger {
                        text = format!("int({text})");
                    }
                    (text, ty)
                }
            };
            operands.push(operand);
        }
        let [(left, left_ty), (right, right_ty)] =
            <[(String, ParameterType); 2]>::try_from(operands).map_err(|_| {
                DslError::InvalidCondition {
                    group: self.p.groups[group].name.clone(),
                    message: "a condition compares two values".into(),
                }
            })?;
        let canonical = if left_ty == right_ty {
            left_ty.clone()
        } else if left_ty == ParameterType::String || right_ty == ParameterType::String {
            ParameterType::String
        } else if left_ty == ParameterType::Boolean || right_ty == ParameterType::Boolean {
            ParameterType::Boolean
        } else {
            ParameterType::NumberDouble
        };
        let cast = |text: String, ty: &ParameterType| -> String {
            if *ty == canonical {
                return text;
            }
            match canonical {
                ParameterType::String => format!("'{text}'"),
                ParameterType::Boolean => {
                    if text.parse::<f64>().map(|v| v == 0.0).unwrap_or(false) {
                        "true".into()
                    } else {
                        "false".into()
                    }
                }
                _ => format!("double({text})"),
            }
        };
        let left = cast(left, &left_ty);
        let right = cast(right, &right_ty);
        Ok(format!("{left} {} {right}", condition.operator))
    }
}

fn outputs_of(task: &Task) -> Vec<(String, IoKind)> {
    match &task.component {
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
        Channel::LoopItem { ty, .. } => IoKind::Parameter {
            ty: ty.clone(),
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
        Ref::TaskOutput { producer, key } => InputParameterSpec::task_output(producer, key),
    }
}

fn artifact_spec(reference: Ref) -> InputArtifactSpec {
    match reference {
        Ref::ComponentInput(name) => InputArtifactSpec::component_input(name),
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

/// The constant string of a source, for the deprecated name fields kfp-kubernetes still writes.
fn constant_name(source: &Source) -> Option<String> {
    match source {
        Source::Constant(Value::String(name)) => Some(name.clone()),
        _ => None,
    }
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

/// A float as Python's `str(float)` writes it (`2.0`, `0.5`).
fn python_float(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

fn io_definitions(
    inputs: &[(String, IoKind)],
    outputs: &[(String, IoKind)],
) -> (Option<ComponentInputsSpec>, Option<ComponentOutputsSpec>) {
    let mut input_spec = ComponentInputsSpec::default();
    for (name, kind) in inputs {
        match kind {
            IoKind::Parameter {
                ty,
                default,
                optional,
            } => {
                let mut def = InputParameterDefinition::default();
                def.parameter_type = Some(ty.clone());
                def.default_value = default.as_ref().map(protobuf_value);
                def.is_optional =
                    (*optional || *ty == ParameterType::TaskFinalStatus).then_some(true);
                input_spec.parameters.insert(name.clone(), def);
            }
            IoKind::Artifact { ty, list, optional } => {
                let mut def = InputArtifactDefinition::default();
                def.artifact_type = Some(ty.clone());
                def.is_artifact_list = list.then_some(true);
                def.is_optional = optional.then_some(true);
                input_spec.artifacts.insert(name.clone(), def);
            }
        }
    }
    let mut output_spec = ComponentOutputsSpec::default();
    for (name, kind) in outputs {
        match kind {
            IoKind::Parameter { ty, .. } => {
                let mut def = OutputParameterDefinition::default();
                def.parameter_type = Some(ty.clone());
                output_spec.parameters.insert(name.clone(), def);
            }
            IoKind::Artifact { ty, list, .. } => {
                let mut def = OutputArtifactDefinition::default();
                def.artifact_type = Some(ty.clone());
                def.is_artifact_list = list.then_some(true);
                output_spec.artifacts.insert(name.clone(), def);
            }
        }
    }
    let inputs = (!input_spec.parameters.is_empty() || !input_spec.artifacts.is_empty())
        .then_some(input_spec);
    let outputs = (!output_spec.parameters.is_empty() || !output_spec.artifacts.is_empty())
        .then_some(output_spec);
    (inputs, outputs)
}

fn container_component(
    component: &ContainerComponent,
    task: &Task,
    task_name: &str,
) -> Result<(ComponentSpec, ExecutorSpec), DslError> {
    let mut references = Vec::new();
    for part in component.command.iter().chain(&component.args) {
        part.references(&mut references);
    }
    for (name, is_output, what) in references {
        let declared = if is_output {
            &component.outputs
        } else {
            &component.inputs
        };
        let found = declared.iter().find(|(n, _)| *n == name).map(|(_, k)| k);
        let fits = match (found, what) {
            (None, _) => false,
            (Some(_), "any") => true,
            (Some(kind), "artifact") => kind.is_artifact(),
            (Some(kind), _) => !kind.is_artifact(),
        };
        if !fits {
            return Err(DslError::UnknownPlaceholder {
                component: component.name.clone(),
                what: format!("{} {what}", if is_output { "output" } else { "input" }),
                name,
            });
        }
    }
    let (inputs, outputs) = io_definitions(&component.inputs, &component.outputs);
    let mut spec = ComponentSpec::default();
    spec.input_definitions = inputs;
    spec.output_definitions = outputs;
    let mut container = PipelineContainerSpec::default();
    container.image = Some(component.image.clone());
    container.command = component.command.iter().map(|p| p.render()).collect();
    container.args = component.args.iter().map(|p| p.render()).collect();
    container.env = task
        .env
        .iter()
        .map(|(n, v)| EnvVar::new(n.clone(), v.clone()))
        .collect();
    container.resources = resources(task, task_name)?;
    let mut executor = ExecutorSpec::default();
    executor.container = Some(container);
    Ok((spec, executor))
}

fn importer_component(importer: &Importer, task: &Task) -> (ComponentSpec, ExecutorSpec) {
    let outputs = outputs_of(task);
    let (inputs, outputs) = io_definitions(&importer_inputs(), &outputs);
    let mut spec = ComponentSpec::default();
    spec.input_definitions = inputs;
    spec.output_definitions = outputs;
    let mut importer_spec = ImporterSpec::default();
    let uri = task.args.iter().find(|(n, _)| n == "uri").map(|(_, s)| s);
    importer_spec.artifact_uri = Some(match uri {
        Some(Source::Constant(value)) => ValueOrRuntimeParameter::constant(protobuf_value(value)),
        _ => {
            let mut runtime = ValueOrRuntimeParameter::default();
            runtime.runtime_parameter = Some("uri".to_owned());
            runtime
        }
    });
    importer_spec.type_schema = Some(importer.ty.clone());
    importer_spec.reimport = importer.reimport.then_some(true);
    importer_spec.metadata = (!importer.metadata.is_empty()).then(|| {
        importer
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), protobuf_value(v)))
            .collect()
    });
    let mut executor = ExecutorSpec::default();
    executor.importer = Some(importer_spec);
    (spec, executor)
}

fn resources(task: &Task, task_name: &str) -> Result<Option<ResourceSpec>, DslError> {
    let mut spec = ResourceSpec::default();
    let mut any = false;
    let cpu = |what: &'static str, value: &str| -> Result<f64, DslError> {
        parse_cpu(value).ok_or_else(|| DslError::InvalidResource {
            task: task_name.to_owned(),
            what,
            value: value.to_owned(),
            message: "expected a number, or an integer followed by m",
        })
    };
    let memory = |what: &'static str, value: &str| -> Result<f64, DslError> {
        parse_memory(value).ok_or_else(|| DslError::InvalidResource {
            task: task_name.to_owned(),
            what,
            value: value.to_owned(),
            message: "expected an integer, optionally followed by E, P, T, G, M, K or Ei, Pi, Ti, Gi, Mi, Ki",
        })
    };
    if let Some(value) = &task.cpu_limit {
        spec.other
            .insert("cpuLimit".into(), Value::from(cpu("cpu limit", value)?));
        spec.resource_cpu_limit = Some(value.clone());
        any = true;
    }
    if let Some(value) = &task.cpu_request {
        spec.other
            .insert("cpuRequest".into(), Value::from(cpu("cpu request", value)?));
        spec.resource_cpu_request = Some(value.clone());
        any = true;
    }
    if let Some(value) = &task.memory_limit {
        spec.other.insert(
            "memoryLimit".into(),
            Value::from(memory("memory limit", value)?),
        );
        spec.resource_memory_limit = Some(value.clone());
        any = true;
    }
    if let Some(value) = &task.memory_request {
        spec.other.insert(
            "memoryRequest".into(),
            Value::from(memory("memory request", value)?),
        );
        spec.resource_memory_request = Some(value.clone());
        any = true;
    }
    if let Some(count) = task.accelerator_limit {
        let mut accelerator = AcceleratorConfig::default();
        accelerator.resource_count = Some(count.to_string());
        accelerator
            .other
            .insert("count".into(), Value::from(count.to_string()));
        if let Some(kind) = &task.accelerator_type {
            accelerator.resource_type = Some(kind.clone());
            accelerator
                .other
                .insert("type".into(), Value::from(kind.clone()));
        }
        spec.accelerator = Some(accelerator);
        any = true;
    }
    Ok(any.then_some(spec))
}

fn parse_cpu(value: &str) -> Option<f64> {
    let (number, milli) = match value.strip_suffix('m') {
        Some(rest) => (rest, true),
        None => (value, false),
    };
    if number.is_empty()
        || !number.chars().all(|c| c.is_ascii_digit() || c == '.')
        || number.ends_with('.')
    {
        return None;
    }
    let parsed: f64 = number.parse().ok()?;
    Some(if milli { parsed / 1000.0 } else { parsed })
}

fn parse_memory(value: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 12] = [
        ("Ei", 1152921504606846976.0),
        ("Pi", 1125899906842624.0),
        ("Ti", 1099511627776.0),
        ("Gi", 1073741824.0),
        ("Mi", 1048576.0),
        ("Ki", 1024.0),
        ("E", 1e18),
        ("P", 1e15),
        ("T", 1e12),
        ("G", 1e9),
        ("M", 1e6),
        ("K", 1e3),
    ];
    let (number, factor) = UNITS
        .iter()
        .find_map(|(suffix, factor)| value.strip_suffix(suffix).map(|n| (n, *factor)))
        .unwrap_or((value, 1.0));
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let parsed: f64 = number.parse().ok()?;
    Some(parsed * factor / 1e9)
}
