//! `ParallelFor` loops: over a literal list, a LIST parameter, or a list of artifacts.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

use super::*;
use crate::spec::{ArtifactItemsSpec, ArtifactIteratorSpec};

/// How a loop iterates.
pub(super) enum Iterator {
    /// Over parameter values.
    Parameter(ParameterIteratorSpec),
    /// Over artifacts.
    Artifact(ArtifactIteratorSpec),
}

impl Compiler<'_> {
    /// The iterator and iterator policy of every loop group; the item becomes an input of the
    /// loop group, the items a channel threaded to it (or a literal list).
    pub(super) fn loop_iterators(
        &mut self,
    ) -> Result<BTreeMap<usize, (Iterator, Option<IteratorPolicy>)>, DslError> {
        let p = self.p;
        let mut iterators = BTreeMap::new();
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
            let policy = parallelism.filter(|n| *n > 0).map(|n| {
                let mut policy = IteratorPolicy::default();
                policy.parallelism_limit = Some(i32::try_from(n).unwrap_or(i32::MAX));
                policy
            });
            if let LoopItems::Artifacts(source) = items {
                let channel = self.channel_of(&group.name, source)?;
                let Some(channel @ Channel::InputArtifact { list: true, .. }) = channel else {
                    return Err(DslError::InvalidLoop {
                        group: group.name.clone(),
                        message: "the items must be an input artifact list of the pipeline".into(),
                    });
                };
                if let Channel::InputArtifact { ty, .. } = &channel {
                    let mut def = InputArtifactDefinition::default();
                    def.artifact_type = Some(ty.clone());
                    self.group_inputs[g]
                        .artifacts
                        .insert(item_name.clone(), def);
                }
                self.thread(Consumer::Group(g), &channel)?;
                let mut items_spec = ArtifactItemsSpec::default();
                items_spec.input_artifact = Some(self.channel_name(&channel));
                let mut iterator = ArtifactIteratorSpec::default();
                iterator.items = Some(items_spec);
                iterator.item_input = Some(item_name.clone());
                iterators.insert(g, (Iterator::Artifact(iterator), policy));
                continue;
            }
            let mut def = InputParameterDefinition::default();
            def.parameter_type = Some(item_type.clone());
            self.group_inputs[g]
                .parameters
                .insert(item_name.clone(), def);
            let mut items_spec = ParameterItemsSpec::default();
            match items {
                LoopItems::Artifacts(_) => {}
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
            iterators.insert(g, (Iterator::Parameter(iterator), policy));
        }

        Ok(iterators)
    }
}
