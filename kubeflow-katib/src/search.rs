//! Search-space helpers: one function per parameter type.
//!
//! ```
//! use kubeflow_katib::search;
//!
//! let lr = search::double(0.001, 0.1).log_uniform();
//! let layers = search::int(2, 8).step(2);
//! let optimizer = search::categorical(["sgd", "adam"]);
//! // Categorical values go into `feasibleSpace.list`, where Katib reads them (the Python
//! // SDK 0.19 writes them into `distribution`, which the webhook rejects).
//! assert_eq!(
//!     optimizer.as_parameter().feasible_space.as_ref().and_then(|f| f.list.clone()),
//!     Some(vec!["sgd".to_string(), "adam".to_string()])
//! );
//! ```

use crate::enums::{Distribution, ParameterType};
use crate::types::{FeasibleSpace, ParameterSpec};

/// A parameter's type and feasible space, without its name (given by
/// [`ExperimentBuilder::parameter`](crate::ExperimentBuilder::parameter)).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSpace(ParameterSpec);

impl SearchSpace {
    fn numeric(type_: ParameterType, min: String, max: String) -> Self {
        SearchSpace(ParameterSpec {
            parameter_type: Some(type_),
            feasible_space: Some(FeasibleSpace {
                min: Some(min),
                max: Some(max),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn listed(type_: ParameterType, list: Vec<String>) -> Self {
        SearchSpace(ParameterSpec {
            parameter_type: Some(type_),
            feasible_space: Some(FeasibleSpace {
                list: Some(list),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn space(&mut self) -> &mut FeasibleSpace {
        self.0
            .feasible_space
            .get_or_insert_with(FeasibleSpace::default)
    }

    /// Sets the step between values (double and int; `grid` needs it for doubles).
    pub fn step(mut self, step: impl ToString) -> Self {
        self.space().step = Some(step.to_string());
        self
    }

    /// Sets the prior distribution (double and int).
    pub fn distribution(mut self, distribution: Distribution) -> Self {
        self.space().distribution = Some(distribution);
        self
    }

    /// Shorthand for `distribution(Distribution::LogUniform)`.
    pub fn log_uniform(self) -> Self {
        self.distribution(Distribution::LogUniform)
    }

    /// The parameter spec (its name unset).
    pub fn as_parameter(&self) -> &ParameterSpec {
        &self.0
    }

    /// The parameter spec with its name.
    pub fn into_parameter(mut self, name: impl Into<String>) -> ParameterSpec {
        self.0.name = Some(name.into());
        self.0
    }
}

impl From<ParameterSpec> for SearchSpace {
    fn from(spec: ParameterSpec) -> Self {
        SearchSpace(spec)
    }
}

/// A real number in `[min, max]`.
pub fn double(min: f64, max: f64) -> SearchSpace {
    SearchSpace::numeric(ParameterType::Double, min.to_string(), max.to_string())
}

/// An integer in `[min, max]`.
pub fn int(min: i64, max: i64) -> SearchSpace {
    SearchSpace::numeric(ParameterType::Int, min.to_string(), max.to_string())
}

/// One of these strings (written into `feasibleSpace.list`).
pub fn categorical<I, S>(values: I) -> SearchSpace
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    SearchSpace::listed(
        ParameterType::Categorical,
        values.into_iter().map(Into::into).collect(),
    )
}

/// One of these numbers (written into `feasibleSpace.list`).
pub fn discrete<I, N>(values: I) -> SearchSpace
where
    I: IntoIterator<Item = N>,
    N: ToString,
{
    SearchSpace::listed(
        ParameterType::Discrete,
        values.into_iter().map(|v| v.to_string()).collect(),
    )
}
