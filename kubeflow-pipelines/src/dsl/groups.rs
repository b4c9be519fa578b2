//! Loops (`ParallelFor`) and if / elif / else chains of a [`Pipeline`].

use serde_json::Value;

use super::DslError;
use super::component::artifact;
use super::pipeline::{Condition, GroupKind, LoopItem, LoopItems, Pipeline, PipelineParam, Source};
use crate::spec::ParameterType;

impl Pipeline {
    /// An if / elif / else chain (`dsl.If`, `dsl.Elif`, `dsl.Else`).
    ///
    /// ```
    /// # use kubeflow_pipelines::dsl::{Condition, ContainerComponent, Pipeline};
    /// # use kubeflow_pipelines::spec::ParameterType;
    /// # let say = ContainerComponent::new("say", "alpine").input("msg", ParameterType::String);
    /// let mut p = Pipeline::new("branches");
    /// let n = p.parameter_with_default("n", ParameterType::NumberInteger, 3);
    /// p.branches(|b| {
    ///     b.if_(Condition::gt(&n, 2), |p| { p.add(say.task().arg("msg", "big")); });
    ///     b.else_(|p| { p.add(say.task().arg("msg", "small")); });
    /// });
    /// # assert!(p.compile().is_ok());
    /// ```
    pub fn branches<R>(&mut self, body: impl FnOnce(&mut Branches<'_>) -> R) -> R {
        let group = self.open_group("condition-branches", None, GroupKind::Branches);
        let mut branches = Branches {
            pipeline: self,
            group,
            previous: Vec::new(),
        };
        body(&mut branches)
    }

    /// Runs the tasks added by `body` once per item of the list `items` (a pipeline parameter or
    /// a task output), at most `parallelism` at a time (`dsl.ParallelFor(items)`). `item_type`
    /// is the type of one item. `body` receives the current item.
    pub fn parallel_for<R>(
        &mut self,
        items: impl Into<Source>,
        item_type: ParameterType,
        parallelism: Option<u32>,
        body: impl FnOnce(&mut Self, LoopItem) -> R,
    ) -> R {
        let items = items.into();
        let channel_name = match &items {
            Source::Parameter(param) => format!("pipelinechannel--{}", param.name),
            Source::TaskOutput { task, key } => format!("pipelinechannel--{}-{key}", task.name),
            Source::LoopItem(item) => item.name.clone(),
            Source::Constant(_) | Source::Collected { .. } | Source::OneOf { .. } => {
                "pipelinechannel--items".to_owned()
            }
        };
        let item_name = format!("{channel_name}-loop-item");
        let group = self.open_group(
            "for-loop",
            None,
            GroupKind::Loop {
                items: LoopItems::Source(items),
                item_name: item_name.clone(),
                item_type: item_type.clone(),
                parallelism,
            },
        );
        let item = LoopItem {
            pipeline: self.id,
            group,
            name: item_name,
            ty: item_type,
            field: None,
            artifact: None,
        };
        self.within(group, |p| body(p, item))
    }

    /// Runs the tasks added by `body` once per item of the literal list `items`
    /// (`dsl.ParallelFor([1, 2, 3])`). The item type is taken from the first item.
    pub fn parallel_for_items<R>(
        &mut self,
        items: Vec<Value>,
        parallelism: Option<u32>,
        body: impl FnOnce(&mut Self, LoopItem) -> R,
    ) -> R {
        self.group_counter += 1;
        let item_name = format!("pipelinechannel--loop-item-param-{}", self.group_counter);
        let ty = match items.first() {
            Some(Value::String(_)) | None => ParameterType::String,
            Some(Value::Bool(_)) => ParameterType::Boolean,
            Some(Value::Number(n)) if n.is_f64() => ParameterType::NumberDouble,
            Some(Value::Number(_)) => ParameterType::NumberInteger,
            Some(Value::Array(_)) => ParameterType::List,
            Some(_) => ParameterType::Struct,
        };
        let group = self.open_group(
            "for-loop",
            None,
            GroupKind::Loop {
                items: LoopItems::Raw(items),
                item_name: item_name.clone(),
                item_type: ty.clone(),
                parallelism,
            },
        );
        let item = LoopItem {
            pipeline: self.id,
            group,
            name: item_name,
            ty,
            field: None,
            artifact: None,
        };
        self.within(group, |p| body(p, item))
    }
}

/// The branches of an if / elif / else chain, see [`Pipeline::branches`].
#[derive(Debug)]
pub struct Branches<'a> {
    pipeline: &'a mut Pipeline,
    group: usize,
    previous: Vec<Condition>,
}

impl Branches<'_> {
    fn branch<R>(
        &mut self,
        condition: Option<Condition>,
        body: impl FnOnce(&mut Pipeline) -> R,
    ) -> R {
        let mut conditions: Vec<(Condition, bool)> =
            self.previous.iter().cloned().map(|c| (c, true)).collect();
        if let Some(condition) = condition {
            conditions.push((condition.clone(), false));
            self.previous.push(condition);
        }
        let pipeline = &mut *self.pipeline;
        let saved = pipeline.current;
        pipeline.current = self.group;
        let group = pipeline.open_group("condition", None, GroupKind::Condition(conditions));
        pipeline.current = saved;
        pipeline.within(group, body)
    }

    /// The first branch (`dsl.If`).
    pub fn if_<R>(&mut self, condition: Condition, body: impl FnOnce(&mut Pipeline) -> R) -> R {
        self.branch(Some(condition), body)
    }

    /// A further branch, taken when the earlier ones were not (`dsl.Elif`).
    pub fn elif<R>(&mut self, condition: Condition, body: impl FnOnce(&mut Pipeline) -> R) -> R {
        self.branch(Some(condition), body)
    }

    /// The last branch, taken when no other was (`dsl.Else`).
    pub fn else_<R>(&mut self, body: impl FnOnce(&mut Pipeline) -> R) -> R {
        self.branch(None, body)
    }
}

impl Pipeline {
    /// Runs the tasks added by `body` once per artifact of `items`, an input of this pipeline
    /// declared with [`Pipeline::input_artifact_list`] (`dsl.ParallelFor(artifacts)` in a
    /// pipeline taking `Input[List[Dataset]]`, typically fed with the collected outputs of
    /// a loop of the pipeline running it). At most `parallelism` run at a time. `body`
    /// receives the current artifact.
    pub fn parallel_for_artifacts<R>(
        &mut self,
        items: &PipelineParam,
        parallelism: Option<u32>,
        body: impl FnOnce(&mut Self, LoopItem) -> R,
    ) -> R {
        let def = self
            .params
            .iter()
            .find(|d| d.name == items.name && items.pipeline == self.id);
        let ty = match def.and_then(|d| d.artifact.clone()) {
            Some((ty, true)) => ty,
            _ => {
                self.errors.push(DslError::InvalidLoop {
                    group: format!("for-loop-{}", self.group_counter + 1),
                    message: format!(
                        "{} is not an input artifact list of pipeline {}",
                        items.name, self.name
                    ),
                });
                artifact::artifact()
            }
        };
        let item_name = format!("pipelinechannel--{}-loop-item", items.name);
        let group = self.open_group(
            "for-loop",
            None,
            GroupKind::Loop {
                items: LoopItems::Artifacts(Source::Parameter(items.clone())),
                item_name: item_name.clone(),
                item_type: ParameterType::String,
                parallelism,
            },
        );
        let item = LoopItem {
            pipeline: self.id,
            group,
            name: item_name,
            ty: ParameterType::String,
            field: None,
            artifact: Some(ty),
        };
        self.within(group, |p| body(p, item))
    }
}
