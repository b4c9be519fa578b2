//! `kfui`: forwards localhost:8080 to the Kubeflow gateway.
fn main() {}
