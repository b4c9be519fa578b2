//! Test support for kubeflow-rs: connects to the real servers that `scripts/test` starts.

pub mod gateway;
pub mod prism;
pub mod python;
