//! Channels: how task inputs reach values produced elsewhere — pipeline parameters, task
//! outputs, loop items, collected loop outputs and `OneOf` — threaded through the groups
//! (conditions, loops, exit handlers) between producer and consumer, with the dependencies.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

use super::*;

impl Compiler<'_> {
    /// Records that `consumer` runs after task `producer`, between their uncommon ancestors.
    pub(super) fn add_dependency(&mut self, consumer: Consumer, producer: usize) {
        let producer_path = self.group_path(self.p.tasks[producer].group);
        let name = self.p.tasks[producer].name.clone();
        self.add_dependency_on(consumer, &name, &producer_path);
    }

    /// Records that `consumer` runs after the task or group `producer` placed in the group
    /// path `producer_path`.
    pub(super) fn add_dependency_on(
        &mut self,
        consumer: Consumer,
        producer: &str,
        producer_path: &[usize],
    ) {
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

    pub(super) fn channel_name(&self, channel: &Channel) -> String {
        match channel {
            Channel::Param { name, .. } | Channel::InputArtifact { name, .. } => {
                format!("pipelinechannel--{name}")
            }
            Channel::Output { task, key, .. } | Channel::Collected { task, key, .. } => {
                format!("pipelinechannel--{}-{key}", self.p.tasks[*task].name)
            }
            Channel::LoopItem { name, .. }
            | Channel::LoopArtifact { name, .. }
            | Channel::OneOf { name, .. } => name.clone(),
        }
    }

    pub(super) fn is_artifact(channel: &Channel) -> bool {
        matches!(
            channel,
            Channel::InputArtifact { .. }
                | Channel::LoopArtifact { .. }
                | Channel::Output {
                    kind: IoKind::Artifact { .. },
                    ..
                }
                | Channel::Collected {
                    kind: IoKind::Artifact { .. },
                    ..
                }
                | Channel::OneOf {
                    kind: IoKind::Artifact { .. },
                    ..
                }
        )
    }

    pub(super) fn declare_group_input(&mut self, group: usize, name: &str, channel: &Channel) {
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
            Channel::LoopArtifact { ty, .. } => {
                let mut def = InputArtifactDefinition::default();
                def.artifact_type = Some(ty.clone());
                inputs.artifacts.insert(name.to_owned(), def);
            }
            Channel::InputArtifact { ty, list, .. }
            | Channel::Output {
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

    pub(super) fn set_group_task_input(
        &mut self,
        group: usize,
        name: &str,
        artifact: bool,
        reference: Ref,
    ) {
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
    pub(super) fn thread(
        &mut self,
        consumer: Consumer,
        channel: &Channel,
    ) -> Result<Ref, DslError> {
        let path = self.consumer_path(consumer);
        let pc = self.channel_name(channel);
        let artifact = Self::is_artifact(channel);
        match channel {
            Channel::Param { name, .. } | Channel::InputArtifact { name, .. } => {
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
            Channel::LoopArtifact { group, name, .. } => {
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
            Channel::LoopItem {
                group, name, field, ..
            } => {
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
                match field {
                    Some(field) => Ok(Ref::ComponentInputSelected(
                        name.clone(),
                        format!("parseJson(string_value)[\"{field}\"]"),
                    )),
                    None => Ok(Ref::ComponentInput(name.clone())),
                }
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
    pub(super) fn thread_from(
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
    pub(super) fn declare_one_of(&mut self, channel: &Channel) {
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
    pub(super) fn declare_loop_output(
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
    pub(super) fn channel_of(
        &self,
        consumer: &str,
        source: &Source,
    ) -> Result<Option<Channel>, DslError> {
        match source {
            Source::Constant(_) => Ok(None),
            Source::Parameter(param) => {
                let def = self.p.params.iter().find(|d| d.name == param.name);
                match def {
                    Some(def) if param.pipeline == self.p.id => Ok(Some(match &def.artifact {
                        Some((ty, list)) => Channel::InputArtifact {
                            name: def.name.clone(),
                            ty: ty.clone(),
                            list: *list,
                        },
                        None => Channel::Param {
                            name: def.name.clone(),
                            ty: def.ty.clone(),
                        },
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
                if let Some(ty) = &item.artifact {
                    return Ok(Some(Channel::LoopArtifact {
                        group: item.group,
                        name: item.name.clone(),
                        ty: ty.clone(),
                    }));
                }
                Ok(Some(Channel::LoopItem {
                    group: item.group,
                    name: item.name.clone(),
                    ty: item.ty.clone(),
                    field: item.field.clone(),
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
}
