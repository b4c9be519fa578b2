//! Which Kubeflow components a cluster has.
