//! `doctor`: what Kubeflow components does the cluster have?
fn main() {}
