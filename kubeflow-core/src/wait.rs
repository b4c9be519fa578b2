//! Waiting until a condition holds, with a deadline and observable progress.

/// Errors while waiting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The deadline passed before the condition held.
    #[error("gave up waiting for {what} after {after:?}")]
    Deadline {
        /// What we waited for.
        what: String,
        /// The deadline.
        after: std::time::Duration,
    },
}
