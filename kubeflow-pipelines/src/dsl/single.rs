//! A component on its own as a pipeline: what `kfp.local` runs when a component is called
//! directly, and what a one-step upload needs.

use super::DslError;
use super::component::{ContainerComponent, IoKind};
use super::pipeline::Pipeline;
use super::python::PythonComponent;
use crate::spec::{CompiledPipeline, ParameterType};

impl ContainerComponent {
    /// A pipeline of this one component, named after it: each input is a pipeline parameter (or
    /// input artifact) of the same name, type and default, each output a pipeline output.
    /// Optional inputs without a default, and a `PipelineTaskFinalStatus` input, are left unset.
    ///
    /// Run a component locally with it:
    ///
    /// ```no_run
    /// use kubeflow_pipelines::dsl::{ContainerComponent, Placeholder};
    /// use kubeflow_pipelines::local::LocalRunner;
    /// use kubeflow_pipelines::spec::ParameterType;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let upper = ContainerComponent::new("upper", "alpine")
    ///     .input("text", ParameterType::String)
    ///     .output("out", ParameterType::String)
    ///     .command(["sh", "-c", "printf %s \"$0\" | tr a-z A-Z > \"$1\""])
    ///     .args([Placeholder::input("text"), Placeholder::output_file("out")]);
    /// let record = LocalRunner::new().run(&upper.to_pipeline()?).arg("text", "hi").await?;
    /// assert_eq!(record.output("out"), Some(&"HI".into()));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// What [`Pipeline::compile_package`] reports for the component (e.g. a placeholder naming
    /// an undeclared input).
    pub fn to_pipeline(&self) -> Result<CompiledPipeline, DslError> {
        let mut pipeline = Pipeline::new(self.name.clone());
        if let Some(description) = &self.description {
            pipeline = pipeline.description(description.clone());
        }
        let mut task = self.task();
        for (name, kind) in &self.inputs {
            match kind {
                IoKind::Parameter {
                    ty: ParameterType::TaskFinalStatus,
                    ..
                } => {}
                IoKind::Parameter {
                    ty,
                    default: Some(default),
                    ..
                } => {
                    let param =
                        pipeline.parameter_with_default(name.clone(), ty.clone(), default.clone());
                    task = task.arg(name.clone(), &param);
                }
                IoKind::Parameter { optional: true, .. } => {}
                IoKind::Parameter { ty, .. } => {
                    let param = pipeline.parameter(name.clone(), ty.clone());
                    task = task.arg(name.clone(), &param);
                }
                IoKind::Artifact { optional: true, .. } => {}
                IoKind::Artifact { ty, list, .. } => {
                    let param = if *list {
                        pipeline.input_artifact_list(name.clone(), ty.clone())
                    } else {
                        pipeline.input_artifact(name.clone(), ty.clone())
                    };
                    task = task.arg(name.clone(), &param);
                }
            }
        }
        let handle = pipeline.add(task);
        for (name, _) in &self.outputs {
            pipeline.output(name.clone(), handle.output(name.clone()));
        }
        pipeline.compile_package()
    }
}

impl PythonComponent {
    /// A pipeline of this one component (see [`ContainerComponent::to_pipeline`]): call a
    /// Python function locally with the local runner, as `kfp.local` does.
    ///
    /// # Errors
    /// What [`Pipeline::compile_package`] reports.
    pub fn to_pipeline(&self) -> Result<CompiledPipeline, DslError> {
        self.to_container().to_pipeline()
    }
}
