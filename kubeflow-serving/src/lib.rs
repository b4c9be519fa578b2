//! # kubeflow-serving
//!
//! KServe for Rust.
//!
//! - Data plane: [`InferenceClient`] speaks V1 (`:predict`, `:explain`) and V2 / Open
//!   Inference Protocol REST (health, metadata, `infer`) with typed tensors ([`InferTensor`],
//!   [`TensorData`]) for every datatype and the binary tensor extension both ways.
//! - Control plane: the KServe resources [`InferenceService`], [`ServingRuntime`],
//!   [`ClusterServingRuntime`], [`InferenceGraph`], [`TrainedModel`] (and the legacy
//!   `serving.kubeflow.org` group in [`legacy`]); fields this SDK does not model are kept.

mod client;
mod inference;
pub mod tensor;
pub mod types;
pub mod v2;

pub use client::{Readiness, Route, ServingClient};
pub use inference::InferenceClient;
pub use tensor::{Datatype, InferTensor, TensorData};
pub use types::common::{Addressable, Condition, DeploymentMode, Extra, ProtocolVersion};
pub use types::graph::{
    InferenceGraph, InferenceGraphSpec, InferenceGraphStatus, InferenceRouter, InferenceStep,
    RouterType,
};
pub use types::inferenceservice::{
    CanarySpec, CanaryStatus, ComponentStatus, DEPLOYMENT_MODE_ANNOTATION, ExplainerSpec,
    FailureInfo, InferenceService, InferenceServiceSpec, InferenceServiceStatus, ModelCopies,
    ModelFormat, ModelSpec, ModelStates, ModelStatus, PredictorSpec, TrafficTarget,
    TransformerSpec,
};
pub use types::legacy;
pub use types::runtime::{
    ClusterServingRuntime, ServingRuntime, ServingRuntimeSpec, ServingRuntimeStatus,
    SupportedModelFormat,
};
pub use types::trainedmodel::{
    TrainedModel, TrainedModelModel, TrainedModelSpec, TrainedModelStatus,
};
pub use v2::{
    InferRequest, InferResponse, ModelMetadata, RequestedOutput, ServerMetadata, TensorMetadata,
};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
