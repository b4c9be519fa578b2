//! [`KatibClient`]: Experiments, Trials and Suggestions through the Kubernetes API.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::enums::{ResumePolicy, TrialConditionType};
use crate::error::{Error, Result};
use crate::types::{EXPERIMENT_LABEL, Experiment, Metric, OptimalTrial, Suggestion, Trial};
use crate::validate::validate_experiment;
use crate::wait::WaitExperiment;

/// The namespace label Katib needs to inject metrics collectors into trial pods (Kubeflow
/// Profiles set it); its value must be `enabled`.
pub const METRICS_COLLECTOR_LABEL: &str = "katib.kubeflow.org/metrics-collector-injection";

const EXPERIMENT_MAX_TRIALS_REACHED: &str = "ExperimentMaxTrialsReached";

/// A client for Katib's custom resources in one namespace.
///
/// ```no_run
/// # async fn demo() -> Result<(), kubeflow_katib::Error> {
/// use kubeflow_katib::KatibClient;
///
/// let katib = KatibClient::new(kube::Client::try_default().await?, "kubeflow-user");
/// for exp in katib.list(None).await? {
///     println!("{:?} succeeded={}", exp.metadata.name, exp.is_succeeded());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct KatibClient {
    client: Client,
    namespace: String,
}

impl fmt::Debug for KatibClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KatibClient")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// One trial of an experiment: its state, hyperparameters and metrics.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TrialSummary {
    /// Trial name.
    pub name: String,
    /// Its state (see [`Trial::state`]).
    pub state: Option<TrialConditionType>,
    /// Its hyperparameters.
    pub parameters: BTreeMap<String, String>,
    /// Its observed metrics.
    pub metrics: Vec<Metric>,
    /// The whole Trial.
    pub trial: Trial,
}

/// Whether a namespace is ready for Katib's metrics-collector injection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamespaceCheck {
    /// The namespace.
    pub namespace: String,
    /// The value of [`METRICS_COLLECTOR_LABEL`] on it, if any.
    pub label_value: Option<String>,
}

impl NamespaceCheck {
    /// True when the label is `enabled`.
    pub fn is_ready(&self) -> bool {
        self.label_value.as_deref() == Some("enabled")
    }
}

impl fmt::Display for NamespaceCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = &self.namespace;
        match self.label_value.as_deref() {
            Some("enabled") => write!(f, "namespace {ns} has {METRICS_COLLECTOR_LABEL}=enabled"),
            found => {
                match found {
                    None => write!(
                        f,
                        "namespace {ns} lacks the label {METRICS_COLLECTOR_LABEL}=enabled"
                    )?,
                    Some(v) => write!(
                        f,
                        "namespace {ns} has {METRICS_COLLECTOR_LABEL}={v:?}, not \"enabled\""
                    )?,
                }
                write!(
                    f,
                    ", so Katib will not collect trial metrics there; add it with \
                     `kubectl label namespace {ns} {METRICS_COLLECTOR_LABEL}=enabled --overwrite` \
                     (Kubeflow Profiles add it to user namespaces)"
                )
            }
        }
    }
}

fn rejected(operation: &'static str, namespace: &str, name: &str, e: kube::Error) -> Error {
    match e {
        kube::Error::Api(s) if (400..500).contains(&s.code) => Error::Rejected {
            operation,
            experiment: format!("{namespace}/{name}"),
            code: s.code,
            reason: s.reason.clone(),
            message: s.message.clone(),
            source: Box::new(kube::Error::Api(s)),
        },
        other => other.into(),
    }
}

impl KatibClient {
    /// A client for `namespace`. No network I/O.
    pub fn new(client: Client, namespace: impl Into<String>) -> Self {
        KatibClient {
            client,
            namespace: namespace.into(),
        }
    }

    /// A client from a [`KubeflowClient`](kubeflow_core::KubeflowClient): its Kubernetes client,
    /// in its user namespace (or the kubeconfig's default namespace).
    ///
    /// # Errors
    /// When the Kubeflow client has no Kubernetes configuration.
    pub fn from_kubeflow(kubeflow: &kubeflow_core::KubeflowClient) -> Result<Self> {
        let client = kubeflow.kube_client()?;
        let namespace = kubeflow
            .namespace()
            .map(str::to_owned)
            .unwrap_or_else(|| client.default_namespace().to_owned());
        Ok(Self::new(client, namespace))
    }

    /// The Kubernetes client.
    pub fn kube_client(&self) -> Client {
        self.client.clone()
    }

    /// The namespace this client works in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The same client in another namespace.
    pub fn in_namespace(&self, namespace: impl Into<String>) -> Self {
        Self::new(self.client.clone(), namespace)
    }

    /// The raw `kube` API for Experiments in this namespace.
    pub fn experiments(&self) -> Api<Experiment> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The raw `kube` API for Trials in this namespace.
    pub fn trials_api(&self) -> Api<Trial> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The raw `kube` API for Suggestions in this namespace.
    pub fn suggestions_api(&self) -> Api<Suggestion> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Validates the experiment with the rules of Katib's webhook, then creates it (in its own
    /// namespace if it names one, else in this client's).
    ///
    /// # Errors
    /// [`Error::Invalid`] without sending anything when validation fails;
    /// [`Error::Rejected`] with the API server's (or the Katib webhook's) message verbatim when
    /// the server refuses it; [`Error::Core`] for transport errors.
    pub async fn create(&self, experiment: &Experiment) -> Result<Experiment> {
        validate_experiment(experiment)?;
        self.create_unchecked(experiment).await
    }

    /// Creates the experiment without client-side validation (the server still validates).
    ///
    /// # Errors
    /// As [`create`](Self::create), without [`Error::Invalid`].
    pub async fn create_unchecked(&self, experiment: &Experiment) -> Result<Experiment> {
        let mut exp = experiment.clone();
        let namespace = exp
            .metadata
            .namespace
            .get_or_insert_with(|| self.namespace.clone())
            .clone();
        let name = exp
            .metadata
            .name
            .clone()
            .or_else(|| exp.metadata.generate_name.clone())
            .unwrap_or_default();
        let api: Api<Experiment> = Api::namespaced(self.client.clone(), &namespace);
        let created = api
            .create(&PostParams::default(), &exp)
            .await
            .map_err(|e| rejected("create", &namespace, &name, e))?;
        tracing::info!(namespace = %namespace, name = ?created.metadata.name, "created Katib experiment");
        Ok(created)
    }

    /// Gets an experiment.
    ///
    /// # Errors
    /// [`Error::Core`] (`is_not_found()` when it does not exist).
    pub async fn get(&self, name: &str) -> Result<Experiment> {
        Ok(self.experiments().get(name).await?)
    }

    /// Lists experiments, optionally filtered by a label selector (`team=ml,stage!=dev`).
    ///
    /// # Errors
    /// [`Error::Core`] when the API call fails.
    pub async fn list(&self, label_selector: Option<&str>) -> Result<Vec<Experiment>> {
        let mut lp = ListParams::default();
        if let Some(s) = label_selector {
            lp = lp.labels(s);
        }
        Ok(self.experiments().list(&lp).await?.items)
    }

    /// Deletes an experiment (its trials and suggestion go with it).
    ///
    /// # Errors
    /// [`Error::Core`] (`is_not_found()` when it does not exist).
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.experiments()
            .delete(name, &DeleteParams::default())
            .await?;
        Ok(())
    }

    /// Changes the budget of an experiment (`maxTrialCount`, `parallelTrialCount`,
    /// `maxFailedTrialCount`, the only fields Katib lets you edit).
    ///
    /// ```no_run
    /// # async fn demo(katib: kubeflow_katib::KatibClient) -> Result<(), kubeflow_katib::Error> {
    /// katib.edit_budget("lr-search").max_trial_count(30).parallel_trial_count(5).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn edit_budget(&self, name: &str) -> EditBudget<'_> {
        EditBudget {
            client: self,
            name: name.to_owned(),
            max_trial_count: None,
            parallel_trial_count: None,
            max_failed_trial_count: None,
        }
    }

    /// Restarts a completed experiment with a larger `maxTrialCount`. Katib allows it only when
    /// the experiment succeeded by reaching its trial budget and its resume policy is
    /// `LongRunning` or `FromVolume`; this is checked first, with the reason when it is not.
    ///
    /// # Errors
    /// [`Error::NotAllowed`] when Katib would refuse the restart; otherwise as
    /// [`EditBudget::send`].
    pub async fn restart(&self, name: &str, max_trial_count: i32) -> Result<Experiment> {
        let exp = self.get(name).await?;
        if !exp.is_completed() {
            return Err(self.not_allowed(
                name,
                "is not completed: raise its budget with edit_budget instead of restarting it",
            ));
        }
        let trials = exp.status.as_ref().and_then(|s| s.trials).unwrap_or(0);
        if max_trial_count <= trials {
            return Err(self.not_allowed(
                name,
                format!("spec.maxTrialCount must be greater than status.trials ({trials}) to restart (got {max_trial_count})"),
            ));
        }
        self.edit_budget(name)
            .max_trial_count(max_trial_count)
            .send()
            .await
    }

    fn not_allowed(&self, name: &str, message: impl Into<String>) -> Error {
        Error::NotAllowed {
            namespace: self.namespace.clone(),
            name: name.to_owned(),
            message: message.into(),
        }
    }

    /// Waits for an experiment (watch-based), by default until it succeeds.
    ///
    /// ```no_run
    /// # async fn demo(katib: kubeflow_katib::KatibClient) -> Result<(), kubeflow_katib::Error> {
    /// use std::time::Duration;
    /// let exp = katib
    ///     .wait("lr-search")
    ///     .timeout(Duration::from_secs(3600))
    ///     .on_progress(|p| eprintln!("{p}"))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self, name: &str) -> WaitExperiment {
        WaitExperiment::new(self.experiments(), self.namespace.clone(), name.to_owned())
    }

    /// The best trial so far, once it has metrics.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn optimal_trial(&self, name: &str) -> Result<Option<OptimalTrial>> {
        Ok(self.get(name).await?.optimal_trial().cloned())
    }

    /// The hyperparameters of the best trial so far (name → value), once it has metrics.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn optimal_hyperparameters(
        &self,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>> {
        Ok(self.optimal_trial(name).await?.map(|t| t.parameters()))
    }

    /// The trials of an experiment, oldest first, with their state, parameters and metrics.
    ///
    /// # Errors
    /// [`Error::Core`] when the API call fails.
    pub async fn trials(&self, experiment: &str) -> Result<Vec<TrialSummary>> {
        let lp = ListParams::default().labels(&format!("{EXPERIMENT_LABEL}={experiment}"));
        let mut trials = self.trials_api().list(&lp).await?.items;
        trials.sort_by(|a, b| {
            let key = |t: &Trial| {
                (
                    t.metadata.creation_timestamp.clone().map(|t| t.0),
                    t.metadata.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Ok(trials
            .into_iter()
            .map(|t| TrialSummary {
                name: t.metadata.name.clone().unwrap_or_default(),
                state: t.state(),
                parameters: t.parameters(),
                metrics: t.metrics().to_vec(),
                trial: t,
            })
            .collect())
    }

    /// Gets a trial.
    ///
    /// # Errors
    /// [`Error::Core`] (`is_not_found()` when it does not exist).
    pub async fn get_trial(&self, name: &str) -> Result<Trial> {
        Ok(self.trials_api().get(name).await?)
    }

    /// The suggestion of an experiment (it has the experiment's name).
    ///
    /// # Errors
    /// [`Error::Core`] (`is_not_found()` when it does not exist).
    pub async fn suggestion(&self, experiment: &str) -> Result<Suggestion> {
        Ok(self.suggestions_api().get(experiment).await?)
    }

    /// Every suggestion in the namespace.
    ///
    /// # Errors
    /// [`Error::Core`] when the API call fails.
    pub async fn list_suggestions(&self) -> Result<Vec<Suggestion>> {
        Ok(self
            .suggestions_api()
            .list(&ListParams::default())
            .await?
            .items)
    }

    /// Checks that a namespace (default: this client's) carries the label Katib needs to inject
    /// metrics collectors; the result's `Display` says what is missing and how to add it.
    ///
    /// # Errors
    /// [`Error::Core`] when the namespace cannot be read (`is_not_found()` when it does not exist).
    pub async fn check_namespace(&self, namespace: Option<&str>) -> Result<NamespaceCheck> {
        let ns = namespace.unwrap_or(&self.namespace);
        let api: Api<Namespace> = Api::all(self.client.clone());
        let obj = api.get(ns).await?;
        Ok(NamespaceCheck {
            namespace: ns.to_owned(),
            label_value: obj
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(METRICS_COLLECTOR_LABEL))
                .cloned(),
        })
    }

    /// Builds the experiment of a [`Tune`](crate::Tune) request, validates it and creates it.
    ///
    /// # Errors
    /// As [`Tune::build`](crate::Tune::build) and [`create`](Self::create).
    pub async fn tune(&self, tune: crate::Tune) -> Result<Experiment> {
        let exp = tune.build()?;
        self.create_unchecked(&exp).await
    }
}

/// A budget change; see [`KatibClient::edit_budget`].
#[derive(Debug)]
#[must_use = "call .send() to apply the change"]
pub struct EditBudget<'a> {
    client: &'a KatibClient,
    name: String,
    max_trial_count: Option<i32>,
    parallel_trial_count: Option<i32>,
    max_failed_trial_count: Option<i32>,
}

impl EditBudget<'_> {
    /// New `maxTrialCount`.
    pub fn max_trial_count(mut self, n: i32) -> Self {
        self.max_trial_count = Some(n);
        self
    }

    /// New `parallelTrialCount`.
    pub fn parallel_trial_count(mut self, n: i32) -> Self {
        self.parallel_trial_count = Some(n);
        self
    }

    /// New `maxFailedTrialCount`.
    pub fn max_failed_trial_count(mut self, n: i32) -> Self {
        self.max_failed_trial_count = Some(n);
        self
    }

    /// Reads the experiment, checks the new budget the way Katib's webhook does, and patches it.
    ///
    /// # Errors
    /// [`kubeflow_core::Error::InvalidArgument`] (in [`Error::Core`]) when no field is given;
    /// [`Error::Invalid`] when the new budget is inconsistent; [`Error::NotAllowed`] when the
    /// experiment is completed and cannot be restarted; [`Error::Rejected`] with the server's
    /// message when it refuses the patch.
    pub async fn send(self) -> Result<Experiment> {
        if self.max_trial_count.is_none()
            && self.parallel_trial_count.is_none()
            && self.max_failed_trial_count.is_none()
        {
            return Err(kubeflow_core::Error::invalid_argument(
                "budget",
                "give at least one of max_trial_count, parallel_trial_count, max_failed_trial_count",
            )
            .into());
        }
        let c = self.client;
        let current = c.get(&self.name).await?;
        let mut candidate = current.clone();
        if let Some(n) = self.max_trial_count {
            candidate.spec.max_trial_count = Some(n);
        }
        if let Some(n) = self.parallel_trial_count {
            candidate.spec.parallel_trial_count = Some(n);
        }
        if let Some(n) = self.max_failed_trial_count {
            candidate.spec.max_failed_trial_count = Some(n);
        }
        validate_experiment(&candidate)?;
        let trials = current.status.as_ref().and_then(|s| s.trials).unwrap_or(0);
        if current.is_completed() && candidate.spec != current.spec {
            let policy = current
                .spec
                .resume_policy
                .clone()
                .unwrap_or(ResumePolicy::Never);
            let by_budget = current
                .condition(crate::ExperimentConditionType::Succeeded)
                .and_then(|c| c.reason.as_deref())
                == Some(EXPERIMENT_MAX_TRIALS_REACHED);
            if !(by_budget
                && matches!(policy, ResumePolicy::LongRunning | ResumePolicy::FromVolume))
            {
                return Err(c.not_allowed(
                    &self.name,
                    format!(
                        "is completed and cannot be restarted: Katib restarts only an experiment that succeeded \
                         by reaching max trials (reason {EXPERIMENT_MAX_TRIALS_REACHED}) with spec.resumePolicy \
                         LongRunning or FromVolume; this one {} with resume policy {policy}",
                        match current.condition(crate::ExperimentConditionType::Succeeded) {
                            Some(s) => format!("succeeded with reason {}", s.reason.as_deref().unwrap_or("none")),
                            None => "failed".to_owned(),
                        }
                    ),
                ));
            }
        }
        if candidate.spec.max_trial_count != current.spec.max_trial_count
            && candidate
                .spec
                .max_trial_count
                .is_some_and(|m| current.is_completed() && m <= trials)
        {
            return Err(c.not_allowed(
                &self.name,
                format!(
                    "spec.maxTrialCount must be greater than status.trials ({trials}) to restart"
                ),
            ));
        }
        let mut spec = serde_json::Map::new();
        if let Some(n) = self.max_trial_count {
            spec.insert("maxTrialCount".into(), json!(n));
        }
        if let Some(n) = self.parallel_trial_count {
            spec.insert("parallelTrialCount".into(), json!(n));
        }
        if let Some(n) = self.max_failed_trial_count {
            spec.insert("maxFailedTrialCount".into(), json!(n));
        }
        let patch = json!({ "spec": spec });
        c.experiments()
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| rejected("patch", &c.namespace, &self.name, e))
    }
}
