//! Types shared by Experiments, Trials and Suggestions (`common/v1beta1` in Katib).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::enums::{
    AlgorithmName, CollectorKind, ComparisonType, EarlyStoppingAlgorithm, FileFormat,
    FileSystemKind, MetricStrategyType, ObjectiveType,
};

/// Fields of an object that this SDK does not model, kept so that a read-modify-write loses
/// nothing.
pub type Extra = BTreeMap<String, Value>;

/// The objective of an experiment (`spec.objective`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ObjectiveSpec {
    /// Minimise or maximise.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ObjectiveType>,
    /// Stop when the objective metric reaches this value (absent: run the whole budget).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::types::serde_goal::serialize"
    )]
    pub goal: Option<f64>,
    /// The metric the search optimises.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective_metric_name: Option<String>,
    /// Other metrics to collect (must not repeat the objective metric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_metric_names: Option<Vec<String>>,
    /// Which value of each metric counts (defaulted by the webhook).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_strategies: Option<Vec<MetricStrategy>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Which value of a metric counts (`metricStrategies[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MetricStrategy {
    /// The metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `min`, `max` or `latest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<MetricStrategyType>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl MetricStrategy {
    /// A strategy for one metric.
    pub fn new(name: impl Into<String>, value: MetricStrategyType) -> Self {
        MetricStrategy {
            name: Some(name.into()),
            value: Some(value),
            extra: Extra::new(),
        }
    }
}

/// A search algorithm and its settings (`spec.algorithm`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AlgorithmSpec {
    /// The algorithm's name, as configured in the cluster's `katib-config`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_name: Option<AlgorithmName>,
    /// Settings of the algorithm (all values are strings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_settings: Option<Vec<AlgorithmSetting>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl AlgorithmSpec {
    /// An algorithm without settings.
    pub fn new(name: impl Into<AlgorithmName>) -> Self {
        AlgorithmSpec {
            algorithm_name: Some(name.into()),
            ..Default::default()
        }
    }

    /// Adds a setting.
    pub fn setting(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.algorithm_settings
            .get_or_insert_with(Vec::new)
            .push(AlgorithmSetting::new(name, value));
        self
    }
}

/// One setting of an algorithm, or of an early-stopping algorithm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AlgorithmSetting {
    /// Setting name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Setting value (a string, whatever it means).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl AlgorithmSetting {
    /// A setting.
    pub fn new(name: impl Into<String>, value: impl ToString) -> Self {
        AlgorithmSetting {
            name: Some(name.into()),
            value: Some(value.to_string()),
            extra: Extra::new(),
        }
    }
}

/// Early stopping (`spec.earlyStopping`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EarlyStoppingSpec {
    /// The early-stopping algorithm (e.g. `medianstop`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_name: Option<EarlyStoppingAlgorithm>,
    /// Its settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm_settings: Option<Vec<AlgorithmSetting>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl EarlyStoppingSpec {
    /// An early-stopping algorithm without settings.
    pub fn new(name: impl Into<EarlyStoppingAlgorithm>) -> Self {
        EarlyStoppingSpec {
            algorithm_name: Some(name.into()),
            ..Default::default()
        }
    }

    /// Adds a setting.
    pub fn setting(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.algorithm_settings
            .get_or_insert_with(Vec::new)
            .push(AlgorithmSetting::new(name, value));
        self
    }
}

/// An early-stopping rule given to a trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EarlyStoppingRule {
    /// The metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The threshold (a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `equal`, `less` or `greater`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparisonType>,
    /// The step from which the rule applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_step: Option<i32>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// How trial metrics are collected (`spec.metricsCollectorSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MetricsCollectorSpec {
    /// Where metrics come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSpec>,
    /// The collector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collector: Option<CollectorSpec>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl MetricsCollectorSpec {
    /// A collector of this kind, without a source.
    pub fn new(kind: CollectorKind) -> Self {
        MetricsCollectorSpec {
            collector: Some(CollectorSpec {
                kind: Some(kind),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The `StdOut` collector (Katib's default): `name=value` lines on stdout.
    pub fn stdout() -> Self {
        Self::new(CollectorKind::StdOut)
    }

    /// The `Push` collector: the training code reports metrics itself.
    pub fn push() -> Self {
        Self::new(CollectorKind::Push)
    }

    /// The `File` collector reading `path` (absolute) in the given format.
    pub fn file(path: impl Into<String>, format: FileFormat) -> Self {
        let mut spec = Self::new(CollectorKind::File);
        spec.source = Some(SourceSpec {
            file_system_path: Some(FileSystemPath {
                path: Some(path.into()),
                kind: Some(FileSystemKind::File),
                format: Some(format),
                extra: Extra::new(),
            }),
            ..Default::default()
        });
        spec
    }

    /// The `TensorFlowEvent` collector reading event files under `dir` (absolute).
    pub fn tensorflow_event(dir: impl Into<String>) -> Self {
        let mut spec = Self::new(CollectorKind::TensorFlowEvent);
        spec.source = Some(SourceSpec {
            file_system_path: Some(FileSystemPath {
                path: Some(dir.into()),
                kind: Some(FileSystemKind::Directory),
                format: None,
                extra: Extra::new(),
            }),
            ..Default::default()
        });
        spec
    }

    /// The `PrometheusMetric` collector scraping `path` on `port` of the trial pod.
    pub fn prometheus(port: i32, path: impl Into<String>) -> Self {
        let mut spec = Self::new(CollectorKind::PrometheusMetric);
        spec.source = Some(SourceSpec {
            http_get: Some(serde_json::json!({ "port": port, "path": path.into() })),
            ..Default::default()
        });
        spec
    }

    /// A `Custom` collector running this container (a Kubernetes `Container` object).
    ///
    /// # Errors
    /// When the container does not serialise to JSON.
    pub fn custom<C: Serialize>(container: &C) -> Result<Self, serde_json::Error> {
        let mut spec = Self::new(CollectorKind::Custom);
        if let Some(c) = spec.collector.as_mut() {
            c.custom_collector = Some(serde_json::to_value(container)?);
        }
        Ok(spec)
    }

    /// Adds regular expressions (each with two groups: name and value) that select metrics.
    pub fn filter<I, S>(mut self, formats: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let source = self.source.get_or_insert_with(SourceSpec::default);
        source.filter = Some(FilterSpec {
            metrics_format: Some(formats.into_iter().map(Into::into).collect()),
            extra: Extra::new(),
        });
        self
    }

    /// The collector kind, if set.
    pub fn kind(&self) -> Option<&CollectorKind> {
        self.collector.as_ref().and_then(|c| c.kind.as_ref())
    }
}

/// Where metrics come from (`metricsCollectorSpec.source`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SourceSpec {
    /// A Kubernetes `HTTPGetAction` (for `PrometheusMetric`), kept as JSON so no field is
    /// lost; read it typed with `serde_json::from_value::<HTTPGetAction>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<Value>,
    /// A file or directory (for `File`, `TensorFlowEvent`, `Custom`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_path: Option<FileSystemPath>,
    /// Regular expressions selecting metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterSpec>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A file or directory holding metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FileSystemPath {
    /// Absolute path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// File or directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileSystemKind>,
    /// `TEXT` or `JSON` (files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<FileFormat>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Metric filters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FilterSpec {
    /// Regular expressions with two groups: the metric name and its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_format: Option<Vec<String>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The collector (`metricsCollectorSpec.collector`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CollectorSpec {
    /// The collector kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<CollectorKind>,
    /// For `Custom`: a Kubernetes `Container`, kept as JSON so no field is lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_collector: Option<Value>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A parameter value given to a trial.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ParameterAssignment {
    /// Parameter name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its value (always a string in the API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ParameterAssignment {
    /// An assignment.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        ParameterAssignment {
            name: Some(name.into()),
            value: Some(value.into()),
            extra: Extra::new(),
        }
    }
}

/// Metrics observed for a trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Observation {
    /// One entry per metric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Metric>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Observation {
    /// The metric of that name.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|m| m.name.as_deref() == Some(name))
    }
}

/// One observed metric. Values are strings in the API and may be `"unavailable"`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Metric {
    /// Metric name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Smallest value reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// Largest value reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Last value reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Metric {
    /// `latest` as a number (`None` when absent, `"unavailable"` or not a number).
    pub fn latest_value(&self) -> Option<f64> {
        parse_metric(self.latest.as_deref())
    }
    /// `min` as a number.
    pub fn min_value(&self) -> Option<f64> {
        parse_metric(self.min.as_deref())
    }
    /// `max` as a number.
    pub fn max_value(&self) -> Option<f64> {
        parse_metric(self.max.as_deref())
    }
}

fn parse_metric(s: Option<&str>) -> Option<f64> {
    s.and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

/// A status condition (the same shape for Experiments, Trials and Suggestions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct Condition<T> {
    /// Condition type.
    #[serde(rename = "type")]
    pub type_: T,
    /// `"True"`, `"False"` or `"Unknown"`.
    #[serde(default)]
    pub status: String,
    /// Machine-readable reason (e.g. `ExperimentGoalReached`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the condition was last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<DateTime<Utc>>,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<DateTime<Utc>>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl<T> Condition<T> {
    /// A condition with status `"True"`.
    pub fn new(type_: T, reason: impl Into<String>, message: impl Into<String>) -> Self {
        let now = Utc::now();
        Condition {
            type_,
            status: "True".into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_update_time: Some(now),
            last_transition_time: Some(now),
            extra: Extra::new(),
        }
    }

    /// True when `status` is `"True"`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// The condition of that type with status `"True"`, if any.
pub(crate) fn true_condition<'a, T: PartialEq>(
    conditions: Option<&'a [Condition<T>]>,
    type_: &T,
) -> Option<&'a Condition<T>> {
    conditions
        .unwrap_or_default()
        .iter()
        .find(|c| &c.type_ == type_ && c.is_true())
}
