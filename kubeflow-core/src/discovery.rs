//! Which Kubeflow components a cluster has.
//!
//! [`discover`] answers "is it installed and can I reach it?": it lists the cluster's
//! CustomResourceDefinitions once and checks, for each Kubeflow component, whether its CRDs
//! exist, which versions are served and stored, and whether they are Established; and it asks
//! Kubeflow Pipelines for `GET apis/v2beta1/healthz` (multi-user mode, version). Every failure
//! is recorded for the component it concerns; nothing here fails as a whole.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use kubeflow_core::discovery::{self, Component};
//!
//! let kube = kube::Client::try_default().await?;
//! let found = discovery::discover(Some(&kube), None).await;
//! println!("{found}");
//! found.require(&[Component::Katib, Component::KServe])?;
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;

use crate::http::HttpClient;

/// A Kubeflow component that discovery knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Component {
    /// Kubeflow Pipelines (found through its REST API's healthz, not through CRDs).
    Pipelines,
    /// Katib: experiments, trials, suggestions (`kubeflow.org`).
    Katib,
    /// KServe (`serving.kserve.io`).
    KServe,
    /// The legacy KFServing (`serving.kubeflow.org`).
    KfServing,
    /// Notebooks (`notebooks.kubeflow.org`).
    Notebooks,
    /// PodDefaults (`poddefaults.kubeflow.org`), used by notebooks to inject configuration.
    PodDefaults,
    /// Profiles (`profiles.kubeflow.org`), the multi-user namespaces.
    Profiles,
    /// The Training Operator v1 jobs (`tfjobs`, `pytorchjobs`, … in `kubeflow.org`).
    TrainingOperator,
    /// Kubeflow Trainer v2 (`trainjobs.trainer.kubeflow.org`).
    Trainer,
}

impl Component {
    /// Every component discovery checks, in report order.
    pub const ALL: [Component; 9] = [
        Component::Pipelines,
        Component::Katib,
        Component::KServe,
        Component::KfServing,
        Component::Notebooks,
        Component::PodDefaults,
        Component::Profiles,
        Component::TrainingOperator,
        Component::Trainer,
    ];

    /// A human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Component::Pipelines => "Kubeflow Pipelines",
            Component::Katib => "Katib",
            Component::KServe => "KServe",
            Component::KfServing => "KFServing (legacy)",
            Component::Notebooks => "Notebooks",
            Component::PodDefaults => "PodDefaults",
            Component::Profiles => "Profiles",
            Component::TrainingOperator => "Training Operator (v1)",
            Component::Trainer => "Trainer (v2)",
        }
    }

    /// The CRDs (`plural.group`) that make up the component; empty for [`Component::Pipelines`].
    pub fn crds(self) -> &'static [&'static str] {
        match self {
            Component::Pipelines => &[],
            Component::Katib => &[
                "experiments.kubeflow.org",
                "trials.kubeflow.org",
                "suggestions.kubeflow.org",
            ],
            Component::KServe => &[
                "inferenceservices.serving.kserve.io",
                "servingruntimes.serving.kserve.io",
                "clusterservingruntimes.serving.kserve.io",
                "inferencegraphs.serving.kserve.io",
                "trainedmodels.serving.kserve.io",
            ],
            Component::KfServing => &[
                "inferenceservices.serving.kubeflow.org",
                "trainedmodels.serving.kubeflow.org",
            ],
            Component::Notebooks => &["notebooks.kubeflow.org"],
            Component::PodDefaults => &["poddefaults.kubeflow.org"],
            Component::Profiles => &["profiles.kubeflow.org"],
            Component::TrainingOperator => &[
                "tfjobs.kubeflow.org",
                "pytorchjobs.kubeflow.org",
                "mpijobs.kubeflow.org",
                "xgboostjobs.kubeflow.org",
                "paddlejobs.kubeflow.org",
                "jaxjobs.kubeflow.org",
            ],
            Component::Trainer => &["trainjobs.trainer.kubeflow.org"],
        }
    }
}

impl Component {
    /// CRDs of [`crds`](Component::crds) that only some releases have (e.g. `jaxjobs` arrived in
    /// Training Operator 1.9): when they are absent the component still counts as installed.
    pub fn optional_crds(self) -> &'static [&'static str] {
        match self {
            Component::KServe => &[
                "inferencegraphs.serving.kserve.io",
                "trainedmodels.serving.kserve.io",
            ],
            Component::KfServing => &["trainedmodels.serving.kubeflow.org"],
            Component::TrainingOperator => &[
                "mpijobs.kubeflow.org",
                "xgboostjobs.kubeflow.org",
                "paddlejobs.kubeflow.org",
                "jaxjobs.kubeflow.org",
            ],
            _ => &[],
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One CRD as found in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrdInfo {
    /// `plural.group`, e.g. `experiments.kubeflow.org`.
    pub name: String,
    /// Whether the CRD exists.
    pub found: bool,
    /// The versions served (`spec.versions[].served`).
    pub served_versions: Vec<String>,
    /// The storage version (`spec.versions[].storage`).
    pub storage_version: Option<String>,
    /// Whether the `Established` condition is `True`.
    pub established: bool,
}

impl CrdInfo {
    fn missing(name: &str) -> Self {
        CrdInfo {
            name: name.to_owned(),
            found: false,
            served_versions: Vec::new(),
            storage_version: None,
            established: false,
        }
    }

    /// Reads a CRD object.
    pub fn from_crd(crd: &CustomResourceDefinition) -> Self {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let served_versions = crd
            .spec
            .versions
            .iter()
            .filter(|v| v.served)
            .map(|v| v.name.clone())
            .collect();
        let storage_version = crd
            .spec
            .versions
            .iter()
            .find(|v| v.storage)
            .map(|v| v.name.clone());
        let established = crd
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            });
        CrdInfo {
            name,
            found: true,
            served_versions,
            storage_version,
            established,
        }
    }

    /// Found and Established.
    pub fn usable(&self) -> bool {
        self.found && self.established
    }
}

/// What discovery concluded about one component.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Presence {
    /// Every CRD exists and is Established, optional ones excepted (for Pipelines: the healthz
    /// answered).
    Installed,
    /// Some required CRDs are missing, or some CRDs are not Established.
    Partial,
    /// None of its CRDs exist.
    NotInstalled,
    /// Could not tell; the message says why (e.g. the CRD list was forbidden, healthz failed).
    Unknown(String),
    /// Not checked (no Kubernetes client, or no KFP client, was given).
    NotChecked,
}

impl fmt::Display for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Presence::Installed => f.write_str("installed"),
            Presence::Partial => f.write_str("partial"),
            Presence::NotInstalled => f.write_str("not installed"),
            Presence::Unknown(e) => write!(f, "unknown: {e}"),
            Presence::NotChecked => f.write_str("not checked"),
        }
    }
}

/// The report for one CRD-based component.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ComponentReport {
    /// Which component.
    pub component: Component,
    /// The conclusion.
    pub presence: Presence,
    /// Each of its CRDs (empty when not checked or unknown).
    pub crds: Vec<CrdInfo>,
}

impl ComponentReport {
    fn from_crds(component: Component, crds: &BTreeMap<String, CrdInfo>) -> Self {
        let infos: Vec<CrdInfo> = component
            .crds()
            .iter()
            .map(|n| crds.get(*n).cloned().unwrap_or_else(|| CrdInfo::missing(n)))
            .collect();
        let optional = component.optional_crds();
        let found = infos.iter().filter(|c| c.found).count();
        // Installed: every required CRD usable, and every optional CRD that exists usable too.
        let complete = infos.iter().all(|c| {
            if optional.contains(&c.name.as_str()) {
                !c.found || c.established
            } else {
                c.usable()
            }
        });
        let presence = if found == 0 {
            Presence::NotInstalled
        } else if complete {
            Presence::Installed
        } else {
            Presence::Partial
        };
        ComponentReport {
            component,
            presence,
            crds: infos,
        }
    }

    fn without_crds(component: Component, presence: Presence) -> Self {
        ComponentReport {
            component,
            presence,
            crds: Vec::new(),
        }
    }

    /// One line: served versions of the CRDs found, and what is missing or not Established.
    fn detail(&self) -> String {
        let mut versions: Vec<&str> = Vec::new();
        for c in &self.crds {
            for v in &c.served_versions {
                if !versions.contains(&v.as_str()) {
                    versions.push(v);
                }
            }
        }
        let mut parts = Vec::new();
        if !versions.is_empty() {
            parts.push(format!("served {}", versions.join(", ")));
        }
        let optional = self.component.optional_crds();
        let (absent_optional, missing): (Vec<&str>, Vec<&str>) = self
            .crds
            .iter()
            .filter(|c| !c.found)
            .map(|c| c.name.as_str())
            .partition(|n| optional.contains(n));
        if self.presence != Presence::NotInstalled {
            if !missing.is_empty() {
                parts.push(format!("missing {}", missing.join(", ")));
            }
            if !absent_optional.is_empty() {
                parts.push(format!(
                    "without the optional {}",
                    absent_optional.join(", ")
                ));
            }
        }
        let not_established: Vec<&str> = self
            .crds
            .iter()
            .filter(|c| c.found && !c.established)
            .map(|c| c.name.as_str())
            .collect();
        if !not_established.is_empty() {
            parts.push(format!("not Established: {}", not_established.join(", ")));
        }
        parts.join("; ")
    }
}

/// What KFP's `GET apis/v2beta1/healthz` said.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelinesHealth {
    /// Whether KFP runs in multi-user mode (then every call needs a namespace).
    pub multi_user: bool,
    /// The commit the API server was built from.
    pub commit_sha: Option<String>,
    /// The release tag.
    pub tag_name: Option<String>,
    /// Where pipelines are stored (`database` or `kubernetes`), on newer releases.
    pub pipeline_store: Option<String>,
}

impl PipelinesHealth {
    /// Reads a healthz answer. `multi_user` missing counts as `false` (the server omits
    /// false booleans).
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err(format!(
                "the healthz answer is not a JSON object: {}",
                crate::error::snippet(value.to_string().as_bytes())
            ));
        };
        let text = |k: &str| {
            map.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let multi_user = match map.get("multi_user") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(format!("healthz `multi_user` is not a boolean: {other}")),
        };
        Ok(PipelinesHealth {
            multi_user,
            commit_sha: text("commit_sha"),
            tag_name: text("tag_name"),
            pipeline_store: text("pipeline_store"),
        })
    }
}

/// The Pipelines part of a [`Discovery`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelinesReport {
    /// The conclusion.
    pub presence: Presence,
    /// The healthz answer, when there was one.
    pub health: Option<PipelinesHealth>,
}

impl PipelinesReport {
    /// Builds the report from the outcome of a healthz call (the answer's JSON, or an error).
    pub fn from_healthz<E: fmt::Display>(answer: Result<Value, E>) -> Self {
        match answer {
            Ok(v) => match PipelinesHealth::from_json(&v) {
                Ok(health) => PipelinesReport {
                    presence: Presence::Installed,
                    health: Some(health),
                },
                Err(e) => PipelinesReport {
                    presence: Presence::Unknown(e),
                    health: None,
                },
            },
            Err(e) => PipelinesReport {
                presence: Presence::Unknown(format!("GET apis/v2beta1/healthz failed: {e}")),
                health: None,
            },
        }
    }

    fn not_checked() -> Self {
        PipelinesReport {
            presence: Presence::NotChecked,
            health: None,
        }
    }
}

/// What the Kubernetes API server told us, besides the CRDs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KubernetesReport {
    /// The API server answered; its version (`gitVersion`, e.g. `v1.33.1`).
    Reachable {
        /// `gitVersion`.
        version: String,
    },
    /// The API server could not be reached or refused us.
    Unreachable(String),
    /// No Kubernetes client was given.
    NotChecked,
}

/// The result of [`discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovery {
    /// The Kubernetes API server.
    pub kubernetes: KubernetesReport,
    /// Every CRD-based component, in [`Component::ALL`] order (Pipelines excluded).
    pub components: Vec<ComponentReport>,
    /// Kubeflow Pipelines.
    pub pipelines: PipelinesReport,
}

/// Runs discovery. With no Kubernetes client, the CRD-based components are
/// [`Presence::NotChecked`]; with no KFP client, Pipelines is. Never fails: each failure is
/// recorded for the component it concerns.
pub async fn discover(kube: Option<&kube::Client>, kfp: Option<&HttpClient>) -> Discovery {
    let (kubernetes, components) = match kube {
        Some(client) => discover_kubernetes(client).await,
        None => (
            KubernetesReport::NotChecked,
            crd_components()
                .map(|c| ComponentReport::without_crds(c, Presence::NotChecked))
                .collect(),
        ),
    };
    let pipelines = match kfp {
        Some(http) => discover_pipelines(http).await,
        None => PipelinesReport::not_checked(),
    };
    Discovery {
        kubernetes,
        components,
        pipelines,
    }
}

/// Asks KFP's healthz through `http` (a client for the KFP API).
pub async fn discover_pipelines(http: &HttpClient) -> PipelinesReport {
    let answer = http.get("apis/v2beta1/healthz").send_json::<Value>().await;
    PipelinesReport::from_healthz(answer)
}

fn crd_components() -> impl Iterator<Item = Component> {
    Component::ALL.into_iter().filter(|c| !c.crds().is_empty())
}

/// The Kubernetes part of [`discover`]: the server version and every CRD-based component.
pub async fn discover_kubernetes(
    client: &kube::Client,
) -> (KubernetesReport, Vec<ComponentReport>) {
    let kubernetes = match client.apiserver_version().await {
        Ok(info) => KubernetesReport::Reachable {
            version: info.git_version,
        },
        Err(e) => KubernetesReport::Unreachable(e.to_string()),
    };
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let components = match crds.list(&ListParams::default()).await {
        Ok(list) => {
            let found: BTreeMap<String, CrdInfo> = list
                .items
                .iter()
                .map(CrdInfo::from_crd)
                .map(|c| (c.name.clone(), c))
                .collect();
            crd_components()
                .map(|c| ComponentReport::from_crds(c, &found))
                .collect()
        }
        Err(e) => {
            let why = format!("listing CustomResourceDefinitions failed: {e}");
            crd_components()
                .map(|c| ComponentReport::without_crds(c, Presence::Unknown(why.clone())))
                .collect()
        }
    };
    (kubernetes, components)
}

impl Discovery {
    /// The presence of one component.
    pub fn presence(&self, component: Component) -> &Presence {
        if component == Component::Pipelines {
            return &self.pipelines.presence;
        }
        self.components
            .iter()
            .find(|r| r.component == component)
            .map_or(&Presence::NotChecked, |r| &r.presence)
    }

    /// The report of one CRD-based component.
    pub fn component(&self, component: Component) -> Option<&ComponentReport> {
        self.components.iter().find(|r| r.component == component)
    }

    /// True when the component is [`Presence::Installed`].
    pub fn has(&self, component: Component) -> bool {
        *self.presence(component) == Presence::Installed
    }

    /// The components that were checked and are not fully installed (partial, missing, unknown).
    pub fn missing(&self) -> Vec<Component> {
        Component::ALL
            .into_iter()
            .filter(|c| {
                !matches!(
                    self.presence(*c),
                    Presence::Installed | Presence::NotChecked
                )
            })
            .collect()
    }

    /// Fails early, with a message naming each needed component that is not installed and why.
    ///
    /// # Errors
    /// [`MissingComponents`] when any of `needed` is not [`Presence::Installed`].
    pub fn require(&self, needed: &[Component]) -> Result<(), MissingComponents> {
        let problems: Vec<(Component, String)> = needed
            .iter()
            .filter(|c| !self.has(**c))
            .map(|c| (*c, self.explain(*c)))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(MissingComponents { problems })
        }
    }

    fn explain(&self, component: Component) -> String {
        let presence = self.presence(component);
        match (component, presence) {
            (Component::Pipelines, Presence::NotChecked) => {
                "not checked: no Kubeflow endpoint was given (set KUBEFLOW_ENDPOINT)".to_owned()
            }
            (_, Presence::NotChecked) => "not checked: no Kubernetes client".to_owned(),
            (_, Presence::NotInstalled) => {
                format!(
                    "not installed: none of its CRDs exist ({})",
                    component.crds().join(", ")
                )
            }
            (_, Presence::Partial) => {
                let detail = self
                    .component(component)
                    .map(ComponentReport::detail)
                    .unwrap_or_default();
                format!("partially installed: {detail}")
            }
            (_, Presence::Unknown(why)) => format!("not known to be installed: {why}"),
            (_, other) => other.to_string(),
        }
    }

    /// A human-readable table, one line per component (also what `Display` prints).
    pub fn summary(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Discovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kubernetes {
            KubernetesReport::Reachable { version } => {
                writeln!(f, "Kubernetes API server: {version}")?
            }
            KubernetesReport::Unreachable(e) => {
                writeln!(f, "Kubernetes API server: unreachable ({e})")?
            }
            KubernetesReport::NotChecked => writeln!(f, "Kubernetes API server: not checked")?,
        }
        let width = Component::ALL
            .iter()
            .map(|c| c.name().len())
            .max()
            .unwrap_or(0);
        let pipelines_detail = match &self.pipelines.health {
            Some(h) => {
                let mut parts = vec![format!(
                    "multi-user: {}",
                    if h.multi_user { "yes" } else { "no" }
                )];
                if let Some(t) = &h.tag_name {
                    parts.push(format!("version {t}"));
                }
                if let Some(s) = &h.pipeline_store {
                    parts.push(format!("pipeline store {s}"));
                }
                parts.join("; ")
            }
            None => String::new(),
        };
        write_row(
            f,
            width,
            Component::Pipelines.name(),
            &self.pipelines.presence,
            &pipelines_detail,
        )?;
        for r in &self.components {
            write_row(f, width, r.component.name(), &r.presence, &r.detail())?;
        }
        Ok(())
    }
}

fn write_row(
    f: &mut fmt::Formatter<'_>,
    width: usize,
    name: &str,
    presence: &Presence,
    detail: &str,
) -> fmt::Result {
    let presence = presence.to_string();
    if detail.is_empty() {
        writeln!(f, "  {name:<width$}  {presence}")
    } else {
        writeln!(f, "  {name:<width$}  {presence:<13}  {detail}")
    }
}

/// Components a program needs that discovery did not find (see [`Discovery::require`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingComponents {
    /// Each missing component and why.
    pub problems: Vec<(Component, String)>,
}

impl fmt::Display for MissingComponents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("required Kubeflow components are not available: ")?;
        for (i, (c, why)) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{c} is {why}")?;
        }
        Ok(())
    }
}

impl std::error::Error for MissingComponents {}
