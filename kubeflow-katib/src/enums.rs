//! String enums of the Katib API. Each has an `Unknown(String)` fallback so that a value a newer
//! Katib (or a cluster's own configuration) sends is kept as it is, never an error.

/// Declares an open string enum: known variants with their wire names, plus `Unknown(String)`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the SDK does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The value as written in the API.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(s) => s.as_str(),
                }
            }

            /// Every value this version of the SDK knows.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $wire => $name::$variant, )+
                    _ => $name::Unknown(s),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Ok(Self::from(s))
            }
        }
    };
}

string_enum! {
    /// Whether the objective metric is minimised or maximised (`spec.objective.type`).
    ObjectiveType {
        /// `minimize`
        Minimize => "minimize",
        /// `maximize`
        Maximize => "maximize",
    }
}

string_enum! {
    /// The type of a search-space parameter (`parameterType`).
    ParameterType {
        /// `double`: a real number between `min` and `max` (optional `step`).
        Double => "double",
        /// `int`: an integer between `min` and `max` (optional `step`).
        Int => "int",
        /// `discrete`: one of the numbers in `list`.
        Discrete => "discrete",
        /// `categorical`: one of the strings in `list`.
        Categorical => "categorical",
    }
}

string_enum! {
    /// The prior distribution of a numeric parameter (`feasibleSpace.distribution`).
    Distribution {
        /// `uniform` (what the webhook defaults to).
        Uniform => "uniform",
        /// `logUniform`
        LogUniform => "logUniform",
        /// `normal`
        Normal => "normal",
        /// `logNormal`
        LogNormal => "logNormal",
    }
}

string_enum! {
    /// Which value of a metric counts for a trial (`metricStrategies[].value`).
    MetricStrategyType {
        /// The smallest reported value.
        Min => "min",
        /// The largest reported value.
        Max => "max",
        /// The last reported value.
        Latest => "latest",
    }
}

string_enum! {
    /// A search algorithm (`algorithm.algorithmName`). The set of names is cluster
    /// configuration (`katib-config`); these are the ones Katib ships.
    AlgorithmName {
        /// Random search (hyperopt).
        Random => "random",
        /// Tree of Parzen Estimators (hyperopt).
        Tpe => "tpe",
        /// Grid search (optuna). Needs a `step` for double parameters.
        Grid => "grid",
        /// Multivariate TPE (optuna).
        MultivariateTpe => "multivariate-tpe",
        /// CMA-ES (goptuna).
        Cmaes => "cmaes",
        /// Sobol quasi-random search (goptuna).
        Sobol => "sobol",
        /// Bayesian optimisation (scikit-optimize).
        BayesianOptimization => "bayesianoptimization",
        /// Hyperband.
        Hyperband => "hyperband",
        /// ENAS (neural architecture search).
        Enas => "enas",
        /// DARTS (neural architecture search).
        Darts => "darts",
        /// Population-based training.
        Pbt => "pbt",
    }
}

string_enum! {
    /// An early-stopping algorithm (`earlyStopping.algorithmName`).
    EarlyStoppingAlgorithm {
        /// Median stopping rule.
        MedianStop => "medianstop",
    }
}

string_enum! {
    /// How trial metrics are collected (`metricsCollectorSpec.collector.kind`).
    CollectorKind {
        /// Parse `name=value` lines from the primary container's stdout (the default).
        StdOut => "StdOut",
        /// Parse a file (`source.fileSystemPath`).
        File => "File",
        /// Read TensorFlow event files from a directory.
        TensorFlowEvent => "TensorFlowEvent",
        /// Scrape a Prometheus endpoint (`source.httpGet`).
        PrometheusMetric => "PrometheusMetric",
        /// A custom collector container (`collector.customCollector`).
        Custom => "Custom",
        /// No sidecar: the training code pushes metrics to the DB manager.
        Push => "Push",
        /// The pre-0.18 name of [`CollectorKind::Push`]; still read from old objects.
        None => "None",
    }
}

string_enum! {
    /// Whether `fileSystemPath` names a file or a directory.
    FileSystemKind {
        /// A single file.
        File => "File",
        /// A directory.
        Directory => "Directory",
    }
}

string_enum! {
    /// The format of a metrics file.
    FileFormat {
        /// Lines matched by the filter's regular expressions.
        Text => "TEXT",
        /// Line-delimited JSON objects.
        Json => "JSON",
    }
}

string_enum! {
    /// What happens to the suggestion service when an experiment completes (`spec.resumePolicy`).
    ResumePolicy {
        /// The suggestion is deleted; the experiment cannot be restarted (the default).
        Never => "Never",
        /// The suggestion service keeps running; the experiment can be restarted.
        LongRunning => "LongRunning",
        /// The suggestion state is kept in a volume; the experiment can be restarted.
        FromVolume => "FromVolume",
    }
}

string_enum! {
    /// A comparison of an early-stopping rule.
    ComparisonType {
        /// `equal`
        Equal => "equal",
        /// `less`
        Less => "less",
        /// `greater`
        Greater => "greater",
    }
}

string_enum! {
    /// The type of an Experiment condition.
    ExperimentConditionType {
        /// The experiment was accepted.
        Created => "Created",
        /// Trials are running.
        Running => "Running",
        /// The experiment is restarting after its budget was raised.
        Restarting => "Restarting",
        /// The experiment finished (goal or budget reached).
        Succeeded => "Succeeded",
        /// The experiment failed.
        Failed => "Failed",
    }
}

string_enum! {
    /// The type of a Trial condition.
    TrialConditionType {
        /// The trial was created.
        Created => "Created",
        /// The trial's job is running.
        Running => "Running",
        /// The trial's job succeeded and its metrics were collected.
        Succeeded => "Succeeded",
        /// The trial was killed.
        Killed => "Killed",
        /// The trial's job failed.
        Failed => "Failed",
        /// The job succeeded but no metrics were reported.
        MetricsUnavailable => "MetricsUnavailable",
        /// An early-stopping rule stopped the trial.
        EarlyStopped => "EarlyStopped",
    }
}

string_enum! {
    /// The type of a Suggestion condition.
    SuggestionConditionType {
        /// The suggestion was created.
        Created => "Created",
        /// The suggestion service's Deployment is ready.
        DeploymentReady => "DeploymentReady",
        /// The suggestion is running.
        Running => "Running",
        /// The suggestion finished.
        Succeeded => "Succeeded",
        /// The suggestion failed.
        Failed => "Failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_values_round_trip() {
        let v: CollectorKind =
            serde_json::from_str("\"PrometheusMetric\"").unwrap_or(CollectorKind::StdOut);
        assert_eq!(v, CollectorKind::PrometheusMetric);
        let u: AlgorithmName = serde_json::from_str("\"my-algo\"").unwrap_or(AlgorithmName::Random);
        assert_eq!(u, AlgorithmName::Unknown("my-algo".into()));
        assert_eq!(
            serde_json::to_string(&u).ok().as_deref(),
            Some("\"my-algo\"")
        );
        assert_eq!(
            ObjectiveType::from(""),
            ObjectiveType::Unknown(String::new())
        );
        assert_eq!(AlgorithmName::MultivariateTpe.as_str(), "multivariate-tpe");
    }
}
