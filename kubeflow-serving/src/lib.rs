//! # kubeflow-serving
//!
//! KServe for Rust.
//!
//! - Data plane: [`InferenceClient`] speaks V1 (`:predict`, `:explain`) and V2 / Open
//!   Inference Protocol REST (health, metadata, `infer`) with typed tensors ([`InferTensor`],
//!   [`TensorData`]) for every datatype and the binary tensor extension both ways.

// kubeflow_core::Error is the crate's error type; its size is kubeflow-core's choice.
#![allow(clippy::result_large_err)]

mod inference;
pub mod tensor;
pub mod v2;

pub use inference::InferenceClient;
pub use tensor::{Datatype, InferTensor, TensorData};
pub use v2::{
    InferRequest, InferResponse, ModelMetadata, RequestedOutput, ServerMetadata, TensorMetadata,
};
