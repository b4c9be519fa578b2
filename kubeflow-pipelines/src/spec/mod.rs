//! The pipeline IR: `PipelineSpec` (the compiled pipeline) and the kfp-kubernetes
//! `PlatformSpec`, as written by the official KFP compiler, and [`CompiledPipeline`], which reads
//! and writes the compiler's two-document YAML (and JSON).
//!
//! Reading then writing a compiled pipeline is lossless: every struct keeps the fields it does
//! not model in its `other` map, and every enum keeps unknown values.
//!
//! ```
//! use kubeflow_pipelines::spec::CompiledPipeline;
//!
//! let yaml = "\
//! ## PIPELINE DEFINITION
//! ## Name: hello
//! pipelineInfo:
//!   name: hello
//! root:
//!   dag:
//!     tasks: {}
//! schemaVersion: 2.1.0
//! sdkVersion: kfp-2.17.3
//! ";
//! let package = CompiledPipeline::from_yaml_str(yaml)?;
//! assert_eq!(package.pipeline_spec.name(), Some("hello"));
//! let written = package.to_yaml_string()?;
//! assert!(written.contains("name: hello"));
//! # Ok::<(), kubeflow_pipelines::spec::SpecError>(())
//! ```

mod de;
mod deployment;
mod enums;
mod error;
mod interop;
mod locate;
pub(crate) mod package;
mod pipeline;
mod platform;
mod render;
mod task;

pub use deployment::*;
pub use enums::{ParameterType, PrimitiveType, TaskConfigPassthroughType, TriggerStrategy};
pub use error::{ParseError, SpecError};
pub use package::{CompiledPipeline, SourceFormat};
pub use pipeline::*;
pub use platform::*;
pub use task::*;

/// Fields of a JSON object this SDK does not model, kept as read (sorted by key).
pub type Extra = serde_json::Map<String, serde_json::Value>;
