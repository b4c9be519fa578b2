//! A Rust DSL for Kubeflow Pipelines that compiles to the same IR as the official Python
//! compiler: container components with typed placeholders, lightweight Python components
//! ([`PythonComponent`], `@dsl.component`), pipelines with typed parameters and input
//! artifacts, task wiring, `after`, resources, retries, caching, conditions (if / elif /
//! else), loops (over lists, parameters and artifact lists), exit handlers, importers,
//! pipelines used as components of other pipelines ([`Pipeline::task`]), and the
//! kfp-kubernetes platform config (secrets, config maps, PVCs with
//! [`ContainerComponent::create_pvc`] / [`delete_pvc`](ContainerComponent::delete_pvc),
//! node selectors and affinity, tolerations, …).
//!
//! ```
//! use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline, Placeholder, artifact};
//! use kubeflow_pipelines::spec::{ParameterType, CompiledPipeline};
//!
//! let say = ContainerComponent::new("say", "alpine")
//!     .input("msg", ParameterType::String)
//!     .command(["echo"])
//!     .args([Placeholder::input("msg")]);
//! let mut pipeline = Pipeline::new("hello");
//! let msg = pipeline.parameter_with_default("msg", ParameterType::String, "hi");
//! pipeline.add(say.task().arg("msg", &msg));
//! let yaml = CompiledPipeline::from(pipeline.compile()?).to_yaml_string()?;
//! assert!(yaml.contains("exec-say"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compile;
mod component;
mod error;
mod groups;
pub(crate) mod kubernetes;
mod nested;
mod pipeline;
mod python;
mod single;

pub use compile::{SCHEMA_VERSION, SDK_VERSION};
pub use component::{ContainerComponent, Importer, IoKind, Placeholder, artifact};
pub use error::DslError;
pub use groups::Branches;
pub use kubernetes::{EmptyDir, EphemeralVolume, NodeAffinity, SecurityContext, Toleration};
pub use pipeline::{Condition, LoopItem, Pipeline, PipelineParam, Retry, Source, Task, TaskHandle};
pub use python::{DEFAULT_BASE_IMAGE, KFP_RUNTIME_VERSION, PythonComponent};
