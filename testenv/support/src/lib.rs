//! Test support for kubeflow-rs: connects to the real servers that `scripts/test` starts.

pub mod prism;
pub mod python;
