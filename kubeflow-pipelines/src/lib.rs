//! Part of the Kubeflow Rust SDK (kubeflow-rs). This crate is being built: its component
//! issue fills it. It already re-exports [`kubeflow_core`], the shared foundation.

pub use kubeflow_core;

pub mod dsl;
pub mod spec;
