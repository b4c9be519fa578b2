//! The KServe custom resources.

pub(crate) mod common;
pub mod graph;
pub mod inferenceservice;
pub mod legacy;
pub mod runtime;
pub mod trainedmodel;
