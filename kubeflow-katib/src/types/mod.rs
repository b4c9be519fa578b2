//! The Katib custom resources (`kubeflow.org/v1beta1`): [`Experiment`], [`Trial`],
//! [`Suggestion`] and the types they share.
//!
//! Every field is optional and every struct keeps the fields it does not model in `extra`,
//! so an object read from the cluster and written back loses nothing. Numeric values the API
//! keeps as strings (feasible spaces, metric values, parameter assignments) stay strings.

pub mod common;
pub mod experiment;
pub mod suggestion;
pub mod trial;

pub use common::*;
pub use experiment::*;
pub use suggestion::*;
pub use trial::*;

/// `objective.goal` is a Go `float64`: Go writes integral values without a fraction (`1`, not
/// `1.0`), and so do we, so that objects round-trip unchanged.
pub(crate) mod serde_goal {
    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 => {
                // Exact: |x| < 2^53 and integral.
                #[allow(clippy::cast_possible_truncation)]
                s.serialize_i64(*x as i64)
            }
            Some(x) => s.serialize_f64(*x),
            None => s.serialize_none(),
        }
    }
}
