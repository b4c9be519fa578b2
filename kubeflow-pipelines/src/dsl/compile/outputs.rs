//! Pipeline outputs: outputs of top-level tasks, collected outputs of top-level loops and
//! `OneOf` outputs of top-level if / elif / else chains.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

use super::*;

impl Compiler<'_> {
    /// The pipeline outputs: selectors in the root DAG and their definitions.
    pub(super) fn pipeline_outputs(
        &mut self,
    ) -> Result<(DagOutputsSpec, ComponentOutputsSpec), DslError> {
        let mut outputs = DagOutputsSpec::default();
        let mut definitions = ComponentOutputsSpec::default();
        for (name, source) in &self.p.outputs {
            let invalid = |message: String| DslError::InvalidOutput {
                output: name.clone(),
                message,
            };
            let channel = self.channel_of(&format!("pipeline output {name}"), source)?;
            let (producer, key, kind) = match channel {
                Some(Channel::Output { task, key, kind }) => {
                    let group = self.p.tasks[task].group;
                    if group != 0 {
                        return Err(invalid(format!(
                            "task {} is inside {}; pipeline outputs come from top-level tasks",
                            self.p.tasks[task].name, self.p.groups[group].name
                        )));
                    }
                    (self.p.tasks[task].name.clone(), key, kind)
                }
                Some(channel @ Channel::Collected { .. }) => {
                    let Channel::Collected {
                        group,
                        task,
                        ref key,
                        ref kind,
                    } = channel
                    else {
                        continue;
                    };
                    if self.p.groups[group].parent != Some(0) {
                        return Err(invalid(format!(
                            "the loop {} of task {} is not at the top level of the pipeline",
                            self.p.groups[group].name, self.p.tasks[task].name
                        )));
                    }
                    let pc = self.channel_name(&channel);
                    self.declare_loop_output(group, task, key, &pc, &channel);
                    (self.p.groups[group].name.clone(), pc, kind.clone())
                }
                Some(channel @ Channel::OneOf { .. }) => {
                    let Channel::OneOf {
                        branches,
                        ref name,
                        ref kind,
                        ..
                    } = channel
                    else {
                        continue;
                    };
                    if self.p.groups[branches].parent != Some(0) {
                        return Err(invalid(format!(
                            "the if / elif / else chain {} is not at the top level of the pipeline",
                            self.p.groups[branches].name
                        )));
                    }
                    self.declare_one_of(&channel);
                    (
                        self.p.groups[branches].name.clone(),
                        name.clone(),
                        kind.clone(),
                    )
                }
                _ => {
                    return Err(invalid(
                        "a pipeline output is an output of a task (or its collected or OneOf form)"
                            .into(),
                    ));
                }
            };
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
}
