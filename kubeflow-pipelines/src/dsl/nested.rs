//! Pipelines used as components of other pipelines (a `@dsl.pipeline` function called inside
//! another pipeline): their inputs (parameters and artifacts) and outputs.

use super::component::IoKind;
use super::pipeline::{Pipeline, PipelineParam, Source, Task, TaskComponent};
use crate::spec::{ArtifactTypeSchema, ParameterType};

impl Pipeline {
    /// Declares an input artifact of the pipeline (`data: Input[Dataset]` in a pipeline's
    /// signature); used by pipelines that run as a task of another pipeline.
    pub fn input_artifact(
        &mut self,
        name: impl Into<String>,
        ty: ArtifactTypeSchema,
    ) -> PipelineParam {
        self.declare_input(name.into(), ParameterType::String, None, Some((ty, false)))
    }

    /// Declares an input taking a list of artifacts (`Input[List[Dataset]]`).
    pub fn input_artifact_list(
        &mut self,
        name: impl Into<String>,
        ty: ArtifactTypeSchema,
    ) -> PipelineParam {
        self.declare_input(name.into(), ParameterType::String, None, Some((ty, true)))
    }

    /// A task running this pipeline inside another pipeline (a nested pipeline): its inputs
    /// are this pipeline's parameters and input artifacts, its outputs the pipeline outputs
    /// declared with [`Pipeline::output`]. The task is named after the pipeline.
    ///
    /// ```
    /// use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline, Placeholder};
    /// use kubeflow_pipelines::spec::ParameterType;
    ///
    /// let echo = ContainerComponent::new("echo", "alpine")
    ///     .input("msg", ParameterType::String)
    ///     .output("out", ParameterType::String)
    ///     .command(["sh", "-c", "echo \"$0\" | tee \"$1\""])
    ///     .args([Placeholder::input("msg"), Placeholder::output_file("out")]);
    /// let mut inner = Pipeline::new("inner");
    /// let msg = inner.parameter("msg", ParameterType::String);
    /// let said = inner.add(echo.task().arg("msg", &msg));
    /// inner.output("Output", said.output("out"));
    ///
    /// let mut outer = Pipeline::new("outer");
    /// let first = outer.add(inner.task().arg("msg", "hello"));
    /// outer.add(echo.task().arg("msg", first.output("Output")));
    /// assert!(outer.compile().is_ok());
    /// ```
    pub fn task(&self) -> Task {
        Task::new(TaskComponent::Pipeline(Box::new(self.clone())))
    }

    /// The inputs of this pipeline as a component.
    pub(crate) fn component_inputs(&self) -> Vec<(String, IoKind)> {
        self.params
            .iter()
            .map(|param| {
                let kind = match &param.artifact {
                    Some((ty, list)) => IoKind::Artifact {
                        ty: ty.clone(),
                        list: *list,
                        optional: false,
                    },
                    None => IoKind::Parameter {
                        ty: param.ty.clone(),
                        default: param.default.clone(),
                        optional: param.default.is_some(),
                    },
                };
                (param.name.clone(), kind)
            })
            .collect()
    }

    /// The outputs of this pipeline as a component (outputs naming an unknown task output are
    /// left out here and reported when the pipeline compiles).
    pub(crate) fn component_outputs(&self) -> Vec<(String, IoKind)> {
        self.outputs
            .iter()
            .filter_map(|(name, source)| Some((name.clone(), self.output_kind(source)?)))
            .collect()
    }

    /// The kind of a pipeline output: a task output, its collected list, or a `OneOf`.
    fn output_kind(&self, source: &Source) -> Option<IoKind> {
        match source {
            Source::TaskOutput { task, key } => {
                let node = self.tasks.get(task.index)?;
                let outputs = super::compile::outputs_of(&node.task);
                outputs.into_iter().find(|(n, _)| n == key).map(|(_, k)| k)
            }
            Source::Collected { task, key } => {
                let single = self.output_kind(&Source::TaskOutput {
                    task: task.clone(),
                    key: key.clone(),
                })?;
                Some(match single {
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
                })
            }
            Source::OneOf { sources, .. } => self.output_kind(sources.first()?),
            _ => None,
        }
    }
}
