//! `KubeflowConfig::infer()`: explicit settings > environment > in-cluster > kubeconfig.

use std::fmt;

/// What one configuration source said.
#[derive(Debug, Clone)]
pub struct SourceAttempt {
    /// The source ("environment", "kfp context ~/.config/kfp/context.json", "in-cluster", "kubeconfig").
    pub source: String,
    /// Why it did not give a configuration.
    pub message: String,
}

/// No source gave a configuration; each source says why.
#[derive(Debug, Clone, thiserror::Error)]
pub struct InferConfigError {
    /// Every source tried, in order.
    pub attempts: Vec<SourceAttempt>,
}

impl fmt::Display for InferConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not find a Kubeflow installation to talk to:")?;
        for a in &self.attempts {
            write!(f, "\n  - {}: {}", a.source, a.message)?;
        }
        Ok(())
    }
}
