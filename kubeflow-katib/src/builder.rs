//! Building experiments: [`ExperimentBuilder`] and [`TrialTemplateBuilder`].

use std::collections::BTreeMap;

use kube::api::ObjectMeta;
use serde_json::{Map, Value, json};

use crate::enums::{
    AlgorithmName, EarlyStoppingAlgorithm, MetricStrategyType, ObjectiveType, ResumePolicy,
};
use crate::search::SearchSpace;
use crate::types::{
    AlgorithmSetting, AlgorithmSpec, EarlyStoppingSpec, Experiment, ExperimentSpec, MetricStrategy,
    MetricsCollectorSpec, ObjectiveSpec, ParameterSpec, TrialJob, TrialParameterSpec,
    TrialTemplate,
};
use crate::validate::{ValidationErrors, placeholders, validate_experiment};

/// The container name the Job and TrainJob templates use unless told otherwise.
pub const DEFAULT_CONTAINER: &str = "training-container";

/// Builds an [`Experiment`]; [`build`](ExperimentBuilder::build) validates it with the rules of
/// Katib's admission webhook.
///
/// ```
/// use kubeflow_katib::{search, ExperimentBuilder, ObjectiveType, TrialTemplateBuilder};
///
/// let exp = ExperimentBuilder::new("mnist-lr")
///     .namespace("kubeflow-user")
///     .objective(ObjectiveType::Maximize, "accuracy")
///     .additional_metric("loss")
///     .algorithm("tpe")
///     .parameter("lr", search::double(0.001, 0.1).log_uniform())
///     .parameter("batch", search::discrete([16, 32, 64]))
///     .trial_template(TrialTemplateBuilder::job("train:1").command([
///         "python", "train.py", "--lr=${trialParameters.lr}", "--batch=${trialParameters.batch}",
///     ]))
///     .max_trial_count(20)
///     .parallel_trial_count(4)
///     .build()?;
/// assert_eq!(exp.spec.trial_template.unwrap().trial_parameters.unwrap().len(), 2);
/// # Ok::<(), kubeflow_katib::ValidationErrors>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ExperimentBuilder {
    metadata: ObjectMeta,
    spec: ExperimentSpec,
    template: Option<TrialTemplateBuilder>,
}

impl ExperimentBuilder {
    /// An experiment named `name` (at most 40 characters, lower case, digits and `-`).
    pub fn new(name: impl Into<String>) -> Self {
        ExperimentBuilder {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: ExperimentSpec::default(),
            template: None,
        }
    }

    /// The namespace (default: the client's).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.metadata.namespace = Some(namespace.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }

    /// Adds an annotation.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }

    fn objective_mut(&mut self) -> &mut ObjectiveSpec {
        self.spec
            .objective
            .get_or_insert_with(ObjectiveSpec::default)
    }

    /// The objective: minimise or maximise `metric`.
    pub fn objective(mut self, type_: ObjectiveType, metric: impl Into<String>) -> Self {
        let o = self.objective_mut();
        o.type_ = Some(type_);
        o.objective_metric_name = Some(metric.into());
        self
    }

    /// Stop once the objective metric reaches `goal`.
    pub fn goal(mut self, goal: f64) -> Self {
        self.objective_mut().goal = Some(goal);
        self
    }

    /// Another metric to collect.
    pub fn additional_metric(mut self, metric: impl Into<String>) -> Self {
        self.objective_mut()
            .additional_metric_names
            .get_or_insert_with(Vec::new)
            .push(metric.into());
        self
    }

    /// Which value of `metric` counts (default: min for minimise, max for maximise).
    pub fn metric_strategy(
        mut self,
        metric: impl Into<String>,
        strategy: MetricStrategyType,
    ) -> Self {
        self.objective_mut()
            .metric_strategies
            .get_or_insert_with(Vec::new)
            .push(MetricStrategy::new(metric, strategy));
        self
    }

    /// The search algorithm (`random`, `tpe`, `grid`, `bayesianoptimization`, … or any name
    /// configured in the cluster).
    pub fn algorithm(mut self, name: impl Into<AlgorithmName>) -> Self {
        let a = self
            .spec
            .algorithm
            .get_or_insert_with(AlgorithmSpec::default);
        a.algorithm_name = Some(name.into());
        self
    }

    /// A setting of the algorithm.
    pub fn algorithm_setting(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.spec
            .algorithm
            .get_or_insert_with(AlgorithmSpec::default)
            .algorithm_settings
            .get_or_insert_with(Vec::new)
            .push(AlgorithmSetting::new(name, value));
        self
    }

    /// Early stopping with this algorithm (e.g. `medianstop`) and settings.
    pub fn early_stopping<I, K, V>(
        mut self,
        name: impl Into<EarlyStoppingAlgorithm>,
        settings: I,
    ) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: ToString,
    {
        let mut es = EarlyStoppingSpec::new(name);
        for (k, v) in settings {
            es = es.setting(k, v);
        }
        self.spec.early_stopping = Some(es);
        self
    }

    /// Adds a parameter to the search space.
    pub fn parameter(mut self, name: impl Into<String>, space: impl Into<SearchSpace>) -> Self {
        self.spec
            .parameters
            .get_or_insert_with(Vec::new)
            .push(space.into().into_parameter(name));
        self
    }

    /// Adds a parameter spec as it is.
    pub fn parameter_spec(mut self, spec: ParameterSpec) -> Self {
        self.spec.parameters.get_or_insert_with(Vec::new).push(spec);
        self
    }

    /// How each trial runs. Trial parameters not declared on the builder are derived from the
    /// `${trialParameters.<name>}` placeholders of the template (each referencing the search
    /// parameter of the same name).
    pub fn trial_template(mut self, template: TrialTemplateBuilder) -> Self {
        self.template = Some(template);
        self
    }

    /// How metrics are collected (default: `StdOut`).
    pub fn metrics_collector(mut self, spec: MetricsCollectorSpec) -> Self {
        self.spec.metrics_collector_spec = Some(spec);
        self
    }

    /// Total number of trials.
    pub fn max_trial_count(mut self, n: i32) -> Self {
        self.spec.max_trial_count = Some(n);
        self
    }

    /// Trials running at once.
    pub fn parallel_trial_count(mut self, n: i32) -> Self {
        self.spec.parallel_trial_count = Some(n);
        self
    }

    /// Failed trials after which the experiment fails.
    pub fn max_failed_trial_count(mut self, n: i32) -> Self {
        self.spec.max_failed_trial_count = Some(n);
        self
    }

    /// The resume policy (`LongRunning` or `FromVolume` allow a restart after completion).
    pub fn resume_policy(mut self, policy: ResumePolicy) -> Self {
        self.spec.resume_policy = Some(policy);
        self
    }

    /// Builds and validates.
    ///
    /// # Errors
    /// [`ValidationErrors`] listing every rule of the Katib webhook the experiment breaks.
    pub fn build(self) -> Result<Experiment, ValidationErrors> {
        let exp = self.build_unchecked();
        validate_experiment(&exp)?;
        Ok(exp)
    }

    /// Builds without validating.
    pub fn build_unchecked(self) -> Experiment {
        let mut spec = self.spec;
        if let Some(t) = self.template {
            spec.trial_template = Some(t.build_for(spec.parameters.as_deref().unwrap_or_default()));
        }
        Experiment {
            metadata: self.metadata,
            spec,
            status: None,
        }
    }
}

/// Builds a [`TrialTemplate`]: the Kubernetes object each trial runs, from a container image and
/// command, as a batch Job, a training-operator job (PyTorchJob, TFJob), a TrainJob, or any
/// object you give.
#[derive(Debug, Clone)]
#[must_use]
pub struct TrialTemplateBuilder {
    kind: TemplateKind,
    image: String,
    container_name: Option<String>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    env: Vec<(String, String)>,
    resources: BTreeMap<String, String>,
    template: TrialTemplate,
}

#[derive(Debug, Clone)]
enum TemplateKind {
    Job,
    PyTorchJob { workers: u32 },
    TfJob { workers: u32 },
    TrainJob { runtime: String, num_nodes: u32 },
    Custom(TrialJob),
}

impl TrialTemplateBuilder {
    fn with(kind: TemplateKind, image: String) -> Self {
        TrialTemplateBuilder {
            kind,
            image,
            container_name: None,
            command: None,
            args: None,
            env: Vec::new(),
            resources: BTreeMap::new(),
            template: TrialTemplate::default(),
        }
    }

    /// A `batch/v1` Job running `image` in a container named `training-container`, with
    /// `restartPolicy: Never` and the Istio sidecar disabled (it would keep the Job running).
    pub fn job(image: impl Into<String>) -> Self {
        Self::with(TemplateKind::Job, image.into())
    }

    /// A `kubeflow.org/v1` PyTorchJob: one Master plus `workers` Workers, container `pytorch`.
    pub fn pytorch_job(image: impl Into<String>, workers: u32) -> Self {
        Self::with(TemplateKind::PyTorchJob { workers }, image.into())
    }

    /// A `kubeflow.org/v1` TFJob: one Chief plus `workers` Workers, container `tensorflow`.
    pub fn tf_job(image: impl Into<String>, workers: u32) -> Self {
        Self::with(TemplateKind::TfJob { workers }, image.into())
    }

    /// A `trainer.kubeflow.org/v1alpha1` TrainJob using the training runtime `runtime` on
    /// `num_nodes` nodes (primary container `node`).
    pub fn train_job(runtime: impl Into<String>, image: impl Into<String>, num_nodes: u32) -> Self {
        Self::with(
            TemplateKind::TrainJob {
                runtime: runtime.into(),
                num_nodes,
            },
            image.into(),
        )
    }

    /// Any Kubernetes object; `primary_container` is the container whose exit and metrics
    /// count. Kinds other than Job, TFJob, PyTorchJob, XGBoostJob, MPIJob and TrainJob need
    /// [`success_condition`](Self::success_condition) and
    /// [`failure_condition`](Self::failure_condition).
    pub fn custom(object: TrialJob, primary_container: impl Into<String>) -> Self {
        let mut b = Self::with(TemplateKind::Custom(object), String::new());
        b.container_name = Some(primary_container.into());
        b
    }

    /// The container's command (may contain `${trialParameters.<name>}`).
    pub fn command<I, S>(mut self, command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.command = Some(command.into_iter().map(Into::into).collect());
        self
    }

    /// The container's arguments (may contain `${trialParameters.<name>}`).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// An environment variable of the container.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// A resource of the container, requested and limited to the same quantity (e.g.
    /// `("cpu", "2")`, `("memory", "4Gi")`, `("nvidia.com/gpu", "1")`).
    pub fn resource(mut self, name: impl Into<String>, quantity: impl Into<String>) -> Self {
        self.resources.insert(name.into(), quantity.into());
        self
    }

    /// The container's name (default `training-container`, `pytorch`, `tensorflow` or `node`).
    pub fn container_name(mut self, name: impl Into<String>) -> Self {
        self.container_name = Some(name.into());
        self
    }

    /// Keep each trial's job and pods after it completes.
    pub fn retain(mut self, retain: bool) -> Self {
        self.template.retain = Some(retain);
        self
    }

    /// Declares a trial parameter: the placeholder `${trialParameters.<name>}` stands for
    /// `reference` (a search parameter, or trial metadata such as `${trialSpec.Name}`).
    pub fn trial_parameter(
        mut self,
        name: impl Into<String>,
        reference: impl Into<String>,
    ) -> Self {
        self.template
            .trial_parameters
            .get_or_insert_with(Vec::new)
            .push(TrialParameterSpec::new(name, reference));
        self
    }

    /// GJSON condition on the job meaning success.
    pub fn success_condition(mut self, condition: impl Into<String>) -> Self {
        self.template.success_condition = Some(condition.into());
        self
    }

    /// GJSON condition on the job meaning failure.
    pub fn failure_condition(mut self, condition: impl Into<String>) -> Self {
        self.template.failure_condition = Some(condition.into());
        self
    }

    /// A label of the pods whose metrics count.
    pub fn primary_pod_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.template
            .primary_pod_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }

    fn container(&self, default_name: &str) -> Value {
        let mut c = Map::new();
        c.insert(
            "name".into(),
            json!(self.container_name.as_deref().unwrap_or(default_name)),
        );
        c.insert("image".into(), json!(self.image));
        if let Some(cmd) = &self.command {
            c.insert("command".into(), json!(cmd));
        }
        if let Some(args) = &self.args {
            c.insert("args".into(), json!(args));
        }
        if !self.env.is_empty() {
            let env: Vec<Value> = self
                .env
                .iter()
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect();
            c.insert("env".into(), Value::Array(env));
        }
        if !self.resources.is_empty() {
            c.insert(
                "resources".into(),
                json!({"requests": self.resources, "limits": self.resources}),
            );
        }
        Value::Object(c)
    }

    fn pod_template(&self, default_name: &str, restart_policy: Option<&str>) -> Value {
        let mut spec = Map::new();
        spec.insert("containers".into(), json!([self.container(default_name)]));
        if let Some(p) = restart_policy {
            spec.insert("restartPolicy".into(), json!(p));
        }
        json!({
            "metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
            "spec": spec,
        })
    }

    fn operator_job(
        &self,
        api_version: &str,
        kind: &str,
        specs_key: &str,
        leader: &str,
        container: &str,
        workers: u32,
    ) -> Value {
        let mut replicas = Map::new();
        let replica = |n: u32| {
            json!({
                "replicas": n,
                "restartPolicy": "OnFailure",
                "template": self.pod_template(container, None),
            })
        };
        replicas.insert(leader.into(), replica(1));
        if workers > 0 {
            replicas.insert("Worker".into(), replica(workers));
        }
        json!({"apiVersion": api_version, "kind": kind, "spec": {specs_key: replicas}})
    }

    /// The template's object and primary container, without trial parameters.
    fn object(&self) -> (TrialJob, String) {
        let name = |d: &str| self.container_name.clone().unwrap_or_else(|| d.to_owned());
        match &self.kind {
            TemplateKind::Job => (
                TrialJob(json!({
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {"template": self.pod_template(DEFAULT_CONTAINER, Some("Never"))},
                })),
                name(DEFAULT_CONTAINER),
            ),
            TemplateKind::PyTorchJob { workers } => (
                TrialJob(self.operator_job(
                    "kubeflow.org/v1",
                    "PyTorchJob",
                    "pytorchReplicaSpecs",
                    "Master",
                    "pytorch",
                    *workers,
                )),
                name("pytorch"),
            ),
            TemplateKind::TfJob { workers } => (
                TrialJob(self.operator_job(
                    "kubeflow.org/v1",
                    "TFJob",
                    "tfReplicaSpecs",
                    "Chief",
                    "tensorflow",
                    *workers,
                )),
                name("tensorflow"),
            ),
            TemplateKind::TrainJob { runtime, num_nodes } => {
                let mut trainer = Map::new();
                trainer.insert("image".into(), json!(self.image));
                trainer.insert("numNodes".into(), json!(num_nodes));
                if let Some(cmd) = &self.command {
                    trainer.insert("command".into(), json!(cmd));
                }
                if let Some(args) = &self.args {
                    trainer.insert("args".into(), json!(args));
                }
                if !self.env.is_empty() {
                    let env: Vec<Value> = self
                        .env
                        .iter()
                        .map(|(k, v)| json!({"name": k, "value": v}))
                        .collect();
                    trainer.insert("env".into(), Value::Array(env));
                }
                if !self.resources.is_empty() {
                    trainer.insert(
                        "resourcesPerNode".into(),
                        json!({"requests": self.resources, "limits": self.resources}),
                    );
                }
                (
                    TrialJob(json!({
                        "apiVersion": "trainer.kubeflow.org/v1alpha1",
                        "kind": "TrainJob",
                        "spec": {"runtimeRef": {"name": runtime}, "trainer": trainer},
                    })),
                    name("node"),
                )
            }
            TemplateKind::Custom(obj) => (obj.clone(), name(DEFAULT_CONTAINER)),
        }
    }

    /// Builds the template; undeclared placeholders become trial parameters referencing the
    /// search parameter of the same name.
    pub fn build_for(self, parameters: &[ParameterSpec]) -> TrialTemplate {
        let (object, primary) = self.object();
        let mut template = self.template;
        let declared: Vec<String> = template
            .trial_parameters
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.name.clone())
            .collect();
        let text = object.0.to_string();
        for name in placeholders(&text) {
            if declared.contains(&name) {
                continue;
            }
            let description = parameters
                .iter()
                .any(|p| p.name.as_deref() == Some(name.as_str()))
                .then(|| format!("search parameter {name}"));
            let mut tp = TrialParameterSpec::new(name.clone(), name);
            tp.description = description;
            template
                .trial_parameters
                .get_or_insert_with(Vec::new)
                .push(tp);
        }
        template.trial_spec = Some(object);
        template.primary_container_name = Some(primary);
        template
    }
}
