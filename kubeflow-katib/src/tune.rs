//! [`Tune`]: an experiment from a command template, the way the Python SDK's `tune()` does it,
//! minus its bugs (categorical values go into `feasibleSpace.list`; server errors are kept
//! verbatim; nothing is sent when the experiment is invalid).
//!
//! ```
//! use kubeflow_katib::{search, ObjectiveType, Tune};
//!
//! let exp = Tune::new("tune-experiment", "python:3.12-slim")
//!     .command(["python", "-c", "print('result=', 4 * ${trialParameters.a} - ${trialParameters.b} ** 2)"])
//!     .parameter("a", search::int(10, 20))
//!     .parameter("b", search::double(0.1, 0.2))
//!     .objective(ObjectiveType::Maximize, "result")
//!     .max_trial_count(12)
//!     .resource("cpu", "2")
//!     .build()?;
//! assert_eq!(exp.spec.parameters.as_ref().map(Vec::len), Some(2));
//! # Ok::<(), kubeflow_katib::Error>(())
//! ```

use crate::builder::{ExperimentBuilder, TrialTemplateBuilder};
use crate::enums::{AlgorithmName, ObjectiveType};
use crate::error::Result;
use crate::search::SearchSpace;
use crate::types::{Experiment, MetricsCollectorSpec};
use crate::validate::{ValidationError, ValidationErrors, placeholders, validate_experiment};

/// A tuning request: a container image and a command with `${trialParameters.<name>}`
/// placeholders, a search space, an objective and a budget. Each trial runs as a `batch/v1`
/// Job (or a PyTorchJob with [`pytorch_workers`](Tune::pytorch_workers)).
///
/// Defaults: algorithm `random`, `StdOut` metrics collector (print `name=value` lines).
#[derive(Debug, Clone)]
#[must_use]
pub struct Tune {
    builder: ExperimentBuilder,
    template: TrialTemplateBuilder,
    parameters: Vec<String>,
    command: Vec<String>,
    algorithm_set: bool,
}

impl Tune {
    /// A request named `name` running `image`.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        Tune {
            builder: ExperimentBuilder::new(name),
            template: TrialTemplateBuilder::job(image),
            parameters: Vec::new(),
            command: Vec::new(),
            algorithm_set: false,
        }
    }

    /// The namespace (default: the client's).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.builder = self.builder.namespace(namespace);
        self
    }

    /// Runs each trial as a PyTorchJob with one Master and `workers` Workers instead of a Job.
    pub fn pytorch_workers(mut self, image: impl Into<String>, workers: u32) -> Self {
        self.template = TrialTemplateBuilder::pytorch_job(image, workers);
        self
    }

    /// The command template (placeholders `${trialParameters.<name>}`).
    pub fn command<I, S>(mut self, command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.command = command.into_iter().map(Into::into).collect();
        self
    }

    /// A search parameter; the command refers to it as `${trialParameters.<name>}`.
    pub fn parameter(mut self, name: impl Into<String>, space: impl Into<SearchSpace>) -> Self {
        let name = name.into();
        self.parameters.push(name.clone());
        self.builder = self.builder.parameter(name, space);
        self
    }

    /// The objective.
    pub fn objective(mut self, type_: ObjectiveType, metric: impl Into<String>) -> Self {
        self.builder = self.builder.objective(type_, metric);
        self
    }

    /// Stop once the objective reaches `goal`.
    pub fn goal(mut self, goal: f64) -> Self {
        self.builder = self.builder.goal(goal);
        self
    }

    /// Another metric to collect.
    pub fn additional_metric(mut self, metric: impl Into<String>) -> Self {
        self.builder = self.builder.additional_metric(metric);
        self
    }

    /// The algorithm (default `random`).
    pub fn algorithm(mut self, name: impl Into<AlgorithmName>) -> Self {
        self.builder = self.builder.algorithm(name);
        self.algorithm_set = true;
        self
    }

    /// A setting of the algorithm.
    pub fn algorithm_setting(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.builder = self.builder.algorithm_setting(name, value);
        self
    }

    /// Total number of trials.
    pub fn max_trial_count(mut self, n: i32) -> Self {
        self.builder = self.builder.max_trial_count(n);
        self
    }

    /// Trials at once.
    pub fn parallel_trial_count(mut self, n: i32) -> Self {
        self.builder = self.builder.parallel_trial_count(n);
        self
    }

    /// Failed trials after which the experiment fails.
    pub fn max_failed_trial_count(mut self, n: i32) -> Self {
        self.builder = self.builder.max_failed_trial_count(n);
        self
    }

    /// A resource per trial, requested and limited (`cpu`, `memory`, `nvidia.com/gpu`).
    pub fn resource(mut self, name: impl Into<String>, quantity: impl Into<String>) -> Self {
        self.template = self.template.resource(name, quantity);
        self
    }

    /// An environment variable of each trial.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.template = self.template.env(name, value);
        self
    }

    /// Keep each trial's job and pods after completion.
    pub fn retain_trials(mut self, retain: bool) -> Self {
        self.template = self.template.retain(retain);
        self
    }

    /// The metrics collector (default `StdOut`).
    pub fn metrics_collector(mut self, spec: MetricsCollectorSpec) -> Self {
        self.builder = self.builder.metrics_collector(spec);
        self
    }

    /// Builds and validates the experiment. Besides the webhook's rules, every search parameter
    /// must appear in the command, since a parameter the trial never sees is a mistake.
    ///
    /// # Errors
    /// [`Error::Invalid`](crate::Error::Invalid) naming each problem.
    pub fn build(self) -> Result<Experiment> {
        let mut builder = self.builder;
        if !self.algorithm_set {
            builder = builder.algorithm(AlgorithmName::Random);
        }
        let used = placeholders(&self.command.join(" "));
        let exp = builder
            .trial_template(self.template.command(self.command))
            .build_unchecked();
        let mut errors = match validate_experiment(&exp) {
            Ok(()) => ValidationErrors {
                experiment: exp.metadata.name.clone().unwrap_or_default(),
                errors: Vec::new(),
            },
            Err(e) => e,
        };
        for (i, p) in self.parameters.iter().enumerate() {
            if !used.contains(p) {
                errors.errors.push(ValidationError {
                    field: format!("spec.parameters[{i}].name"),
                    message: format!(
                        "parameter {p} is not used in the command (no ${{trialParameters.{p}}})"
                    ),
                });
            }
        }
        if errors.errors.is_empty() {
            Ok(exp)
        } else {
            Err(errors.into())
        }
    }
}
