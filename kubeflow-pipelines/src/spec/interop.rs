//! Conversions between the typed IR ([`CompiledPipeline`], [`PipelineSpec`]) and the REST
//! client's opaque [`crate::PipelineSpec`] (what `upload`, versions and runs take and return).

use serde_json::Value;

use super::{CompiledPipeline, PipelineSpec, SpecError};

/// A compiled pipeline as the REST client's spec, e.g. to upload a pipeline built with the DSL.
///
/// ```no_run
/// # async fn f(kfp: kubeflow_pipelines::PipelinesClient) -> Result<(), Box<dyn std::error::Error>> {
/// use kubeflow_pipelines::PipelinePackage;
/// use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline};
///
/// let hello = ContainerComponent::new("hello", "alpine").command(["echo", "hello"]);
/// let mut pipeline = Pipeline::new("hello");
/// pipeline.add(hello.task());
/// let compiled = pipeline.compile_package()?;
/// let uploaded = kfp.pipelines().upload(PipelinePackage::spec(compiled.into())).send().await?;
/// # let _ = uploaded; Ok(()) }
/// ```
impl From<&CompiledPipeline> for crate::PipelineSpec {
    fn from(compiled: &CompiledPipeline) -> Self {
        let spec = crate::PipelineSpec::new(Value::from(&compiled.pipeline_spec));
        match &compiled.platform_spec {
            Some(platform) => {
                spec.with_platform_spec(serde_json::to_value(platform).unwrap_or(Value::Null))
            }
            None => spec,
        }
    }
}

impl From<CompiledPipeline> for crate::PipelineSpec {
    fn from(compiled: CompiledPipeline) -> Self {
        crate::PipelineSpec::from(&compiled)
    }
}

impl From<PipelineSpec> for crate::PipelineSpec {
    fn from(spec: PipelineSpec) -> Self {
        crate::PipelineSpec::new(Value::from(spec))
    }
}

/// The typed IR of a spec the server returned (a pipeline version's or a run's).
impl TryFrom<&crate::PipelineSpec> for CompiledPipeline {
    type Error = SpecError;

    fn try_from(spec: &crate::PipelineSpec) -> Result<Self, SpecError> {
        let mut documents = serde_json::Map::new();
        documents.insert("pipeline_spec".to_owned(), spec.spec().clone());
        if let Some(platform) = spec.platform_spec() {
            documents.insert("platform_spec".to_owned(), platform.clone());
        }
        CompiledPipeline::from_api_value(Value::Object(documents))
    }
}
