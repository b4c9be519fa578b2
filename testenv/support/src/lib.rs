//! Test support for kubeflow-rs: connects to the real servers that `scripts/test` starts.
//!
//! See `testenv/README.md` for the environment variables each module reads.

pub mod gateway;
pub mod k8s;
pub mod kfp_local;
pub mod prism;
pub mod python;
