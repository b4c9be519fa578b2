//! Client-side validation: the rules of Katib's admission webhook (`validator.go` in Katib
//! v0.19), checked before anything is sent, with errors naming the field.
//!
//! Two rules need the cluster and are left to the webhook: whether the algorithm and
//! early-stopping names are configured in `katib-config`, and whether the namespace carries the
//! metrics-collector label (see [`KatibClient::check_namespace`](crate::KatibClient::check_namespace)).
//! A few checks go beyond the webhook because the suggestion service would fail later anyway:
//! numeric bounds must be numbers with `min <= max`, parameter names must be unique, and the
//! primary container must exist in the trial template.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::enums::{
    CollectorKind, FileFormat, FileSystemKind, ObjectiveType, ParameterType, ResumePolicy,
};
use crate::types::{Experiment, MetricsCollectorSpec, ParameterSpec, TrialTemplate};

/// The longest experiment name Katib accepts.
pub const MAX_NAME_LEN: usize = 40;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationError {
    /// The field, as a path: `spec.parameters[0].feasibleSpace.list`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every broken rule of one experiment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ValidationErrors {
    /// The experiment (`namespace/name` or `name`).
    pub experiment: String,
    /// The broken rules, in the order the webhook checks them.
    pub errors: Vec<ValidationError>,
}

impl ValidationErrors {
    /// The error about that field, if any.
    pub fn field(&self, field: &str) -> Option<&ValidationError> {
        self.errors.iter().find(|e| e.field == field)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid Experiment {}: ", self.experiment)?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[allow(clippy::expect_used)] // constant patterns, checked by the tests
static NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z]([-a-z0-9]*[a-z0-9])?$").expect("valid regex"));
#[allow(clippy::expect_used)]
static PLACEHOLDER_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{trialParameters\.([^}]+)\}").expect("valid regex"));
#[allow(clippy::expect_used)]
static META_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\$\{trialSpec\.(Name|Namespace|Kind|APIVersion|(Labels|Annotations)\[[^\]]+\])\}$",
    )
    .expect("valid regex")
});
#[allow(clippy::expect_used)]
static TWO_GROUPS_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r".*\(.*\).*\(.*\).*").expect("valid regex"));

/// The names of the `${trialParameters.<name>}` placeholders in `text`, each once, in order.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for c in PLACEHOLDER_RE.captures_iter(text) {
        let name = c[1].to_owned();
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

struct Errors(Vec<ValidationError>);

impl Errors {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(ValidationError {
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Kinds whose success/failure conditions the webhook fills in.
const DEFAULTED_KINDS: &[&str] = &[
    "Job",
    "TFJob",
    "PyTorchJob",
    "XGBoostJob",
    "MPIJob",
    "TrainJob",
];

/// Checks an experiment against the rules of Katib's admission webhook.
///
/// ```
/// use kubeflow_katib::{search, validate_experiment, ExperimentBuilder, ObjectiveType};
///
/// let exp = ExperimentBuilder::new("x")
///     .objective(ObjectiveType::Minimize, "loss")
///     .algorithm("random")
///     .parameter("lr", search::double(0.1, 0.01)) // min > max
///     .max_trial_count(0)
///     .build_unchecked();
/// let err = validate_experiment(&exp).unwrap_err();
/// assert_eq!(err.field("spec.maxTrialCount").unwrap().message, "must be greater than 0");
/// ```
///
/// # Errors
/// [`ValidationErrors`] with one entry per broken rule.
pub fn validate_experiment(exp: &Experiment) -> Result<(), ValidationErrors> {
    let mut errs = Errors(Vec::new());
    let spec = &exp.spec;

    match (
        exp.metadata.name.as_deref(),
        exp.metadata.generate_name.as_deref(),
    ) {
        (Some(name), _) if !name.is_empty() => {
            if !NAME_RE.is_match(name) {
                errs.push(
                    "metadata.name",
                    "name must consist of lower case alphanumeric characters or '-', start with an \
                     alphabetic character, and end with an alphanumeric character (e.g. 'my-name', or 'abc-123')",
                );
            }
            if name.len() > MAX_NAME_LEN {
                errs.push(
                    "metadata.name",
                    format!(
                        "must be no more than {MAX_NAME_LEN} characters (it has {})",
                        name.len()
                    ),
                );
            }
        }
        (_, Some(prefix)) if !prefix.is_empty() => {
            // The server appends 5 characters.
            if prefix.len() + 5 > MAX_NAME_LEN {
                errs.push(
                    "metadata.generateName",
                    format!(
                        "must be no more than {} characters, as the server appends 5",
                        MAX_NAME_LEN - 5
                    ),
                );
            }
        }
        _ => errs.push("metadata.name", "must be specified"),
    }

    if let Some(n) = spec.max_failed_trial_count.filter(|n| *n < 0) {
        errs.push(
            "spec.maxFailedTrialCount",
            format!("should not be less than 0 (got {n})"),
        );
    }
    if spec.max_trial_count.is_some_and(|n| n <= 0) {
        errs.push("spec.maxTrialCount", "must be greater than 0");
    }
    if spec.parallel_trial_count.is_some_and(|n| n <= 0) {
        errs.push("spec.parallelTrialCount", "must be greater than 0");
    }
    if let (Some(f), Some(m)) = (spec.max_failed_trial_count, spec.max_trial_count)
        && f > m
    {
        errs.push(
            "spec.maxFailedTrialCount",
            format!("should be less than or equal to spec.maxTrialCount ({f} > {m})"),
        );
    }
    if let (Some(p), Some(m)) = (spec.parallel_trial_count, spec.max_trial_count)
        && p > m
    {
        errs.push(
            "spec.parallelTrialCount",
            format!("should be less than or equal to spec.maxTrialCount ({p} > {m})"),
        );
    }

    match &spec.objective {
        None => errs.push("spec.objective", "must be specified"),
        Some(o) => {
            if !matches!(
                o.type_,
                Some(ObjectiveType::Minimize | ObjectiveType::Maximize)
            ) {
                errs.push(
                    "spec.objective.type",
                    format!(
                        "must be minimize or maximize (got {:?})",
                        o.type_.as_ref().map(|t| t.as_str()).unwrap_or("")
                    ),
                );
            }
            let metric = o.objective_metric_name.as_deref().unwrap_or("");
            if metric.is_empty() {
                errs.push("spec.objective.objectiveMetricName", "must be specified");
            } else if o
                .additional_metric_names
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|m| m == metric)
            {
                errs.push(
                    "spec.objective.additionalMetricNames",
                    format!("should not contain spec.objective.objectiveMetricName ({metric})"),
                );
            }
        }
    }

    match &spec.algorithm {
        None => errs.push("spec.algorithm", "must be specified"),
        Some(a)
            if a.algorithm_name
                .as_ref()
                .is_none_or(|n| n.as_str().is_empty()) =>
        {
            errs.push("spec.algorithm.algorithmName", "must be specified")
        }
        Some(_) => {}
    }
    if let Some(es) = &spec.early_stopping
        && es
            .algorithm_name
            .as_ref()
            .is_none_or(|n| n.as_str().is_empty())
    {
        errs.push("spec.earlyStopping.algorithmName", "must be specified");
    }
    if let Some(ResumePolicy::Unknown(p)) = &spec.resume_policy
        && !p.is_empty()
    {
        errs.push(
            "spec.resumePolicy",
            format!("invalid ResumePolicyType {p:?} (Never, LongRunning or FromVolume)"),
        );
    }

    let parameters = spec.parameters.as_deref().unwrap_or_default();
    validate_trial_template(spec.trial_template.as_ref(), parameters, &mut errs);

    match (parameters.is_empty(), spec.nas_config.is_some()) {
        (true, false) => errs.push(
            "spec",
            "spec.parameters or spec.nasConfig must be specified",
        ),
        (false, true) => errs.push(
            "spec",
            "only one of spec.parameters and spec.nasConfig can be specified",
        ),
        _ => {}
    }
    validate_parameters(parameters, &mut errs);
    validate_metrics_collector(spec.metrics_collector_spec.as_ref(), &mut errs);

    if errs.0.is_empty() {
        Ok(())
    } else {
        let name = exp
            .metadata
            .name
            .clone()
            .or_else(|| exp.metadata.generate_name.clone())
            .unwrap_or_default();
        let experiment = match &exp.metadata.namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name,
        };
        Err(ValidationErrors {
            experiment,
            errors: errs.0,
        })
    }
}

fn validate_parameters(parameters: &[ParameterSpec], errs: &mut Errors) {
    let mut names = HashSet::new();
    for (i, p) in parameters.iter().enumerate() {
        let at = format!("spec.parameters[{i}]");
        match p.name.as_deref() {
            None | Some("") => errs.push(format!("{at}.name"), "must be specified"),
            Some(n) if !names.insert(n) => errs.push(
                format!("{at}.name"),
                format!("parameter name {n} is duplicated"),
            ),
            Some(_) => {}
        }
        let type_ = p.parameter_type.clone();
        if !matches!(
            type_,
            Some(
                ParameterType::Double
                    | ParameterType::Int
                    | ParameterType::Categorical
                    | ParameterType::Discrete
            )
        ) {
            errs.push(
                format!("{at}.parameterType"),
                format!(
                    "parameterType: {} is not supported (double, int, discrete or categorical)",
                    type_.as_ref().map(|t| t.as_str()).unwrap_or("")
                ),
            );
        }
        let fs = p.feasible_space.clone().unwrap_or_default();
        if let Some(crate::enums::Distribution::Unknown(d)) = &fs.distribution
            && !d.is_empty()
        {
            errs.push(
                format!("{at}.feasibleSpace.distribution"),
                format!(
                    "distribution: {d} is not supported (uniform, logUniform, normal or logNormal)"
                ),
            );
        }
        let empty = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
        let list = fs.list.as_deref().unwrap_or_default();
        if empty(&fs.min)
            && empty(&fs.max)
            && empty(&fs.step)
            && list.is_empty()
            && fs.distribution.is_none()
        {
            errs.push(
                format!("{at}.feasibleSpace"),
                "feasibleSpace must be specified",
            );
            continue;
        }
        match type_ {
            Some(t @ (ParameterType::Double | ParameterType::Int)) => {
                if !list.is_empty() {
                    errs.push(
                        format!("{at}.feasibleSpace.list"),
                        format!("feasibleSpace.list is not supported for parameterType: {t}"),
                    );
                }
                if empty(&fs.min) || empty(&fs.max) {
                    errs.push(
                        format!("{at}.feasibleSpace.max"),
                        format!("feasibleSpace.max or feasibleSpace.min must be specified for parameterType: {t}"),
                    );
                } else {
                    let parse =
                        |s: &Option<String>| s.as_deref().unwrap_or("").trim().parse::<f64>();
                    match (parse(&fs.min), parse(&fs.max)) {
                        (Ok(min), Ok(max)) if !min.is_finite() || !max.is_finite() => errs.push(
                            format!("{at}.feasibleSpace"),
                            "min and max must be finite numbers",
                        ),
                        (Ok(min), Ok(max)) if min > max => errs.push(
                            format!("{at}.feasibleSpace.min"),
                            format!("min ({min}) must not be greater than max ({max})"),
                        ),
                        (Ok(_), Ok(_)) => {}
                        _ => {
                            errs.push(format!("{at}.feasibleSpace"), "min and max must be numbers")
                        }
                    }
                }
            }
            Some(t @ (ParameterType::Categorical | ParameterType::Discrete)) => {
                if !empty(&fs.min) || !empty(&fs.max) || !empty(&fs.step) {
                    errs.push(
                        format!("{at}.feasibleSpace"),
                        format!("feasibleSpace .max, .min and .step is not supported for parameterType: {t}"),
                    );
                }
                if list.is_empty() {
                    errs.push(
                        format!("{at}.feasibleSpace.list"),
                        format!("must list the values of a {t} parameter"),
                    );
                }
            }
            _ => {}
        }
    }
}

fn validate_trial_template(
    t: Option<&TrialTemplate>,
    parameters: &[ParameterSpec],
    errs: &mut Errors,
) {
    const AT: &str = "spec.trialTemplate";
    let Some(t) = t else {
        errs.push(AT, "must be specified");
        return;
    };
    let primary = t.primary_container_name.as_deref().unwrap_or("");
    if primary.is_empty() {
        errs.push(format!("{AT}.primaryContainerName"), "must be specified");
    }
    let kind = t.trial_spec.as_ref().and_then(|s| s.kind()).unwrap_or("");
    let defaulted = t.trial_spec.is_some() && DEFAULTED_KINDS.contains(&kind);
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    if !defaulted && (!set(&t.success_condition) || !set(&t.failure_condition)) {
        errs.push(
            AT,
            format!(
                "successCondition and failureCondition must be specified (Katib fills them in only for \
                 {}; this template's kind is {kind:?})",
                DEFAULTED_KINDS.join(", ")
            ),
        );
    }
    let Some(trial_parameters) = t.trial_parameters.as_deref() else {
        errs.push(format!("{AT}.trialParameters"), "must be specified");
        return;
    };
    let text = match (&t.trial_spec, &t.config_map) {
        (None, None) => {
            errs.push(
                format!("{AT}.trialSpec"),
                "spec.trialTemplate.trialSpec or spec.trialTemplate.configMap must be specified",
            );
            return;
        }
        (Some(_), Some(_)) => {
            errs.push(
                AT,
                "only one of spec.trialTemplate.trialSpec or spec.trialTemplate.configMap can be specified",
            );
            return;
        }
        (None, Some(cm)) => {
            if !set(&cm.config_map_name)
                || !set(&cm.config_map_namespace)
                || !set(&cm.template_path)
            {
                errs.push(
                    format!("{AT}.configMap"),
                    "configMapName, configMapNamespace and templatePath must be specified",
                );
            }
            // The template lives in the cluster: the webhook checks the rest.
            return;
        }
        (Some(s), None) => s.0.to_string(),
    };

    let param_names: HashSet<&str> = parameters
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect();
    let mut names = HashSet::new();
    let mut refs = HashSet::new();
    let used = placeholders(&text);
    for (i, tp) in trial_parameters.iter().enumerate() {
        let at = format!("{AT}.trialParameters[{i}]");
        let name = tp.name.as_deref().unwrap_or("");
        let reference = tp.reference.as_deref().unwrap_or("");
        if name.is_empty() || reference.is_empty() || name.contains(['{', '}']) {
            errs.push(
                at,
                "name and reference must be specified and name must not contain '{' or '}'",
            );
            continue;
        }
        if !names.insert(name) {
            errs.push(
                format!("{at}.name"),
                format!("parameter name {name} can't be duplicated in spec.trialTemplate.trialParameters"),
            );
            continue;
        }
        if !refs.insert(reference) {
            errs.push(
                format!("{at}.reference"),
                format!("parameter reference {reference} can't be duplicated in spec.trialTemplate.trialParameters"),
            );
            continue;
        }
        if !param_names.is_empty()
            && !META_RE.is_match(reference)
            && !param_names.contains(reference)
        {
            let mut known: Vec<&str> = param_names.iter().copied().collect();
            known.sort_unstable();
            errs.push(
                format!("{at}.reference"),
                format!(
                    "parameter reference {reference} does not exist in spec.parameters ({})",
                    known.join(", ")
                ),
            );
        }
        if !used.iter().any(|u| u == name) {
            errs.push(
                format!("{at}.name"),
                format!("parameter name: {name} in spec.trialParameters not found in spec.trialTemplate.trialSpec (no ${{trialParameters.{name}}})"),
            );
        }
    }
    let undeclared: Vec<String> = used
        .iter()
        .filter(|u| !names.contains(u.as_str()))
        .map(|u| format!("${{trialParameters.{u}}}"))
        .collect();
    if !undeclared.is_empty() {
        errs.push(
            AT,
            format!(
                "parameters: {} in spec.trialTemplate not found in spec.trialParameters",
                undeclared.join(", ")
            ),
        );
    }

    let Some(spec) = &t.trial_spec else { return };
    let meta = spec.0.get("metadata");
    let meta_set = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if meta_set("name") || meta_set("namespace") {
        errs.push(
            format!("{AT}.trialSpec.metadata"),
            "metadata.name and metadata.namespace in spec.trialTemplate must be omitted",
        );
    }
    if spec.api_version().is_none_or(str::is_empty) || kind.is_empty() {
        errs.push(
            format!("{AT}.trialSpec"),
            "APIVersion and Kind in spec.trialTemplate must be specified",
        );
    }
    if !primary.is_empty() && kind != "TrainJob" {
        let mut containers = Vec::new();
        collect_container_names(&spec.0, &mut containers);
        if !containers.is_empty() && !containers.iter().any(|c| c == primary) {
            errs.push(
                format!("{AT}.primaryContainerName"),
                format!(
                    "container {primary} is not in spec.trialTemplate.trialSpec (its containers: {})",
                    containers.join(", ")
                ),
            );
        }
    }
}

/// Names of every container under any `containers` array of the object.
fn collect_container_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "containers"
                    && let Value::Array(items) = child
                {
                    for c in items {
                        if let Some(n) = c.get("name").and_then(Value::as_str) {
                            out.push(n.to_owned());
                        }
                    }
                }
                collect_container_names(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|c| collect_container_names(c, out)),
        _ => {}
    }
}

fn validate_metrics_collector(mc: Option<&MetricsCollectorSpec>, errs: &mut Errors) {
    const AT: &str = "spec.metricsCollectorSpec";
    let Some(mc) = mc else { return };
    let kind = mc.kind().cloned().unwrap_or(CollectorKind::StdOut);
    let source = mc.source.as_ref();
    let fsp = source.and_then(|s| s.file_system_path.as_ref());
    let abs = |p: Option<&String>| p.is_some_and(|p| p.starts_with('/'));
    match &kind {
        CollectorKind::StdOut | CollectorKind::Push | CollectorKind::None => {}
        // The mutating webhook fills in the sources of File, TensorFlowEvent and
        // PrometheusMetric before validation; absent values are checked as defaulted.
        CollectorKind::File => {
            if let Some(f) = fsp
                && (f.kind.as_ref().is_some_and(|k| *k != FileSystemKind::File)
                    || f.path.as_ref().is_some_and(|p| !p.starts_with('/')))
            {
                errs.push(
                    format!("{AT}.source.fileSystemPath.path"),
                    "file path where metrics file exists is required (an absolute path, kind File)",
                );
            }
            let format = fsp.and_then(|f| f.format.clone());
            if let Some(FileFormat::Unknown(f)) = &format {
                errs.push(
                    format!("{AT}.source.fileSystemPath.format"),
                    format!("format of metrics file must be TEXT or JSON (got {f:?})"),
                );
            }
            if format == Some(FileFormat::Json) && source.is_some_and(|s| s.filter.is_some()) {
                errs.push(
                    format!("{AT}.source.filter"),
                    "filter must be nil when format of metrics file is json",
                );
            }
        }
        CollectorKind::TensorFlowEvent => {
            if let Some(f) = fsp
                && (f
                    .kind
                    .as_ref()
                    .is_some_and(|k| *k != FileSystemKind::Directory)
                    || f.path.as_ref().is_some_and(|p| !p.starts_with('/')))
            {
                errs.push(
                    format!("{AT}.source"),
                    "directory path where tensorflow event files exist is required by .spec.metricsCollectorSpec.source.fileSystemPath.path",
                );
            }
            if fsp.is_some_and(|f| f.format.is_some()) {
                errs.push(
                    format!("{AT}.source.fileSystemPath.format"),
                    "must be empty",
                );
            }
        }
        CollectorKind::PrometheusMetric => {
            let http = source.and_then(|s| s.http_get.as_ref());
            let port = http.and_then(|h| h.get("port"));
            let port_ok = match port {
                None => true, // defaulted to 8080
                Some(Value::Number(n)) => n.as_i64().is_some_and(|p| p > 0),
                Some(Value::String(s)) => s.parse::<i64>().is_ok_and(|p| p > 0),
                _ => false,
            };
            if !port_ok {
                errs.push(
                    format!("{AT}.source.httpGet.port"),
                    "must be a positive integer value for metrics collector kind: PrometheusMetric",
                );
            }
            let path = http
                .and_then(|h| h.get("path"))
                .and_then(Value::as_str)
                .unwrap_or("/metrics");
            if !path.starts_with('/') {
                errs.push(
                    format!("{AT}.source.httpGet.path"),
                    "path is invalid for metrics collector kind: PrometheusMetric",
                );
            }
        }
        CollectorKind::Custom => {
            if mc
                .collector
                .as_ref()
                .and_then(|c| c.custom_collector.as_ref())
                .is_none()
            {
                errs.push(
                    format!("{AT}.collector.customCollector"),
                    "metrics collector kind: Custom is required",
                );
            }
            if let Some(f) = fsp
                && (!abs(f.path.as_ref())
                    || !matches!(
                        f.kind,
                        Some(FileSystemKind::File | FileSystemKind::Directory)
                    ))
            {
                errs.push(
                    format!("{AT}.source.fileSystemPath"),
                    ".spec.metricsCollectorSpec.source is invalid",
                );
            }
        }
        CollectorKind::Unknown(k) => errs.push(
            format!("{AT}.collector.kind"),
            format!("invalid metrics collector kind: {k}"),
        ),
    }
    let formats = source
        .and_then(|s| s.filter.as_ref())
        .and_then(|f| f.metrics_format.as_deref())
        .unwrap_or_default();
    for f in formats {
        match Regex::new(&go_regex(f)) {
            Err(e) => errs.push(
                format!("{AT}.source.filter.metricsFormat"),
                format!("invalid filter {f:?}: {e}"),
            ),
            Ok(_) if !TWO_GROUPS_RE.is_match(f) => errs.push(
                format!("{AT}.source.filter.metricsFormat"),
                format!("two top subexpressions are required in {f:?}"),
            ),
            Ok(_) => {}
        }
    }
}

/// Go's RE2 reads a `{` that does not start a repetition (`{n}`, `{n,}`, `{n,m}`) as a literal;
/// Rust's `regex` rejects it. Escape those so that filters Katib accepts compile here too.
fn go_regex(pattern: &str) -> String {
    #[allow(clippy::expect_used)]
    static REPEAT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\{[0-9]+(,[0-9]*)?\}").expect("valid regex"));
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut escaped = false;
    for (i, c) in pattern.char_indices() {
        if escaped {
            escaped = false;
            out.push(c);
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                out.push(c);
            }
            '{' if !REPEAT.is_match(&pattern[i..]) => out.push_str("\\{"),
            '}' => {
                // A `}` closing a repetition stays; any other is a literal.
                let closes = pattern[..i].rfind('{').is_some_and(|j| {
                    REPEAT.is_match(&pattern[j..])
                        && REPEAT
                            .find(&pattern[j..])
                            .is_some_and(|m| j + m.end() == i + 1)
                });
                if closes {
                    out.push(c)
                } else {
                    out.push_str("\\}")
                }
            }
            _ => out.push(c),
        }
    }
    out
}
