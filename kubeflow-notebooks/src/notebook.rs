//! The `Notebook` custom resource (`notebooks.kubeflow.org`), its status, and what the
//! notebook controller reads from it (annotations, server kinds, phases).

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{ContainerState, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::{CustomResource, Resource, ResourceExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The annotation that stops a notebook: the controller scales its StatefulSet to 0 while it is
/// present. Its value is the RFC 3339 time the notebook was stopped.
pub const STOP_ANNOTATION: &str = "kubeflow-resource-stopped";
/// The server kind annotation the Jupyter web app sets (`jupyter`, `group-one`, `group-two`).
pub const SERVER_TYPE_ANNOTATION: &str = "notebooks.kubeflow.org/server-type";
/// Rewrites the URI the gateway sends to the server (`/` for VS Code and RStudio).
pub const HTTP_REWRITE_URI_ANNOTATION: &str = "notebooks.kubeflow.org/http-rewrite-uri";
/// A JSON map of request headers the gateway sets (RStudio's `X-RStudio-Root-Path`).
pub const HTTP_HEADERS_REQUEST_SET_ANNOTATION: &str =
    "notebooks.kubeflow.org/http-headers-request-set";
/// Who created the notebook (set by the Jupyter web app).
pub const CREATOR_ANNOTATION: &str = "notebooks.kubeflow.org/creator";
/// Last activity the culler saw (RFC 3339).
pub const LAST_ACTIVITY_ANNOTATION: &str = "notebooks.kubeflow.org/last-activity";
/// The label the controller puts on the notebook's pod (value: the notebook's name).
pub const NOTEBOOK_NAME_LABEL: &str = "notebook-name";
/// The port the controller gives the notebook container when it declares none.
pub const DEFAULT_NOTEBOOK_PORT: u16 = 8888;
/// The name of the port the controller gives the notebook container when it declares none.
pub const NOTEBOOK_PORT_NAME: &str = "notebook-port";

/// `spec` of a [`Notebook`]: a pod template whose first container is the notebook server.
///
/// Built most easily with [`NotebookBuilder`](crate::NotebookBuilder). Fields this SDK does not
/// model are kept in `extra` and written back unchanged.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "kubeflow.org",
    version = "v1",
    kind = "Notebook",
    namespaced,
    status = "NotebookStatus",
    schema = "disabled",
    derive = "PartialEq"
)]
#[non_exhaustive]
pub struct NotebookSpec {
    /// The pod template (`spec.template`).
    #[serde(default)]
    pub template: NotebookTemplate,
    /// Fields not modelled here, kept for read-modify-write.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl NotebookSpec {
    /// A spec with this pod spec.
    pub fn new(pod_spec: PodSpec) -> Self {
        NotebookSpec {
            template: NotebookTemplate {
                spec: Some(pod_spec),
                extra: BTreeMap::new(),
            },
            extra: BTreeMap::new(),
        }
    }
}

/// `spec.template` of a [`Notebook`].
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct NotebookTemplate {
    /// The pod spec; `containers[0]` is the notebook server and should be named like the
    /// notebook (the controller reads the container state of that container only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<PodSpec>,
    /// Fields not modelled here (e.g. `metadata`), kept for read-modify-write.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `status` of a [`Notebook`], written by the notebook controller.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NotebookStatus {
    /// The pod's conditions (`PodScheduled`, `Initialized`, `ContainersReady`, `Ready`).
    #[serde(default)]
    pub conditions: Vec<NotebookCondition>,
    /// Ready replicas of the StatefulSet: 1 when the server runs, 0 otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    /// The state of the container named like the notebook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_state: Option<ContainerState>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One condition of a [`NotebookStatus`] (copied from the pod's conditions).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NotebookCondition {
    /// The condition type (`Ready`, `ContainersReady`, `PodScheduled`, `Initialized`, …).
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// A machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the condition was last probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_probe_time: Option<Time>,
    /// When the condition last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
}

/// The kind of server a notebook runs, as the Jupyter web app names them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ServerKind {
    /// JupyterLab (`jupyter`): served under the notebook's prefix.
    #[default]
    Jupyter,
    /// VS Code, code-server (`group-one`): the gateway rewrites the URI to `/`.
    VsCode,
    /// RStudio (`group-two`): URI rewritten to `/` and `X-RStudio-Root-Path` set.
    RStudio,
    /// Another value of the server-type annotation.
    Unknown(String),
}

impl ServerKind {
    /// The value of the `notebooks.kubeflow.org/server-type` annotation.
    pub fn as_str(&self) -> &str {
        match self {
            ServerKind::Jupyter => "jupyter",
            ServerKind::VsCode => "group-one",
            ServerKind::RStudio => "group-two",
            ServerKind::Unknown(s) => s,
        }
    }

    /// Parses the annotation's value (unknown values are kept).
    pub fn from_annotation(value: &str) -> Self {
        match value {
            "jupyter" => ServerKind::Jupyter,
            "group-one" => ServerKind::VsCode,
            "group-two" => ServerKind::RStudio,
            other => ServerKind::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerKind::Jupyter => "JupyterLab",
            ServerKind::VsCode => "VS Code",
            ServerKind::RStudio => "RStudio",
            ServerKind::Unknown(s) => s,
        })
    }
}

/// Where a notebook is in its life, computed from its annotations and status the way the
/// Jupyter web app does it (see [`Notebook::phase`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotebookPhase {
    /// The server runs (`readyReplicas == 1`).
    Ready,
    /// Stopped: the stop annotation is set and no replica is ready.
    Stopped,
    /// The stop annotation is set but the pod still runs.
    Stopping,
    /// Being deleted.
    Terminating,
    /// Not ready yet; the container's waiting reason and message when there is one
    /// (`ContainerCreating`, `ImagePullBackOff`, …), else a pod condition's.
    Waiting {
        /// The reason (`ImagePullBackOff`, `Unschedulable`, …), if known.
        reason: Option<String>,
        /// The message, if any.
        message: Option<String>,
    },
    /// The notebook container terminated.
    Terminated {
        /// The reason (`Error`, `OOMKilled`, …), if known.
        reason: Option<String>,
        /// The exit code.
        exit_code: i32,
    },
    /// The controller has not written a status yet.
    Uninitialized,
}

impl NotebookPhase {
    /// The container waiting reasons that mean the server will not start without a change
    /// (a wrong image, a crashing server, a bad configuration).
    pub const FATAL_WAITING_REASONS: &'static [&'static str] = &[
        "ImagePullBackOff",
        "ErrImagePull",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CrashLoopBackOff",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    ];

    /// The waiting or terminated reason, if any.
    pub fn reason(&self) -> Option<&str> {
        match self {
            NotebookPhase::Waiting { reason, .. } | NotebookPhase::Terminated { reason, .. } => {
                reason.as_deref()
            }
            _ => None,
        }
    }

    /// True when the container waits for one of [`Self::FATAL_WAITING_REASONS`].
    pub fn is_fatal(&self) -> bool {
        self.reason()
            .is_some_and(|r| Self::FATAL_WAITING_REASONS.contains(&r))
    }
}

impl fmt::Display for NotebookPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotebookPhase::Ready => f.write_str("ready"),
            NotebookPhase::Stopped => f.write_str("stopped"),
            NotebookPhase::Stopping => f.write_str("stopping"),
            NotebookPhase::Terminating => f.write_str("terminating"),
            NotebookPhase::Uninitialized => f.write_str("uninitialized (no status yet)"),
            NotebookPhase::Waiting { reason, message } => {
                f.write_str("waiting")?;
                if let Some(r) = reason {
                    write!(f, ": {r}")?;
                }
                if let Some(m) = message.as_deref().filter(|m| !m.is_empty()) {
                    write!(f, " ({m})")?;
                }
                Ok(())
            }
            NotebookPhase::Terminated { reason, exit_code } => {
                write!(f, "terminated with exit code {exit_code}")?;
                if let Some(r) = reason {
                    write!(f, " ({r})")?;
                }
                Ok(())
            }
        }
    }
}

impl Notebook {
    /// A builder for a new notebook named `name` running `image`.
    pub fn builder(
        name: impl Into<String>,
        image: impl Into<String>,
    ) -> crate::builder::NotebookBuilder {
        crate::builder::NotebookBuilder::new(name, image)
    }

    /// True when the stop annotation is set (the notebook is stopped or stopping).
    pub fn is_stopped(&self) -> bool {
        self.annotations().contains_key(STOP_ANNOTATION)
    }

    /// True when the server runs: `status.readyReplicas` is at least 1 and the notebook is
    /// not being stopped or deleted.
    pub fn is_ready(&self) -> bool {
        self.phase() == NotebookPhase::Ready
    }

    /// Ready replicas reported by the controller (0 when there is no status).
    pub fn ready_replicas(&self) -> i32 {
        self.status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
    }

    /// The server kind, from the `notebooks.kubeflow.org/server-type` annotation (Jupyter when
    /// it is absent).
    pub fn server_kind(&self) -> ServerKind {
        self.annotations()
            .get(SERVER_TYPE_ANNOTATION)
            .map(|v| ServerKind::from_annotation(v))
            .unwrap_or_default()
    }

    /// The image of the notebook container.
    pub fn image(&self) -> Option<&str> {
        self.notebook_container().and_then(|c| c.image.as_deref())
    }

    /// The notebook container: the one named like the notebook, else the first one.
    pub fn notebook_container(&self) -> Option<&k8s_openapi::api::core::v1::Container> {
        let containers = &self.spec.template.spec.as_ref()?.containers;
        let name = self.meta().name.as_deref().unwrap_or_default();
        containers
            .iter()
            .find(|c| c.name == name)
            .or_else(|| containers.first())
    }

    /// The path of the notebook under the Kubeflow gateway: `/notebook/{namespace}/{name}/`.
    /// `None` when the object has no namespace or name.
    pub fn gateway_path(&self) -> Option<String> {
        let meta = self.meta();
        Some(gateway_path(
            meta.namespace.as_deref()?,
            meta.name.as_deref()?,
        ))
    }

    /// The phase, computed like the Jupyter web app: deleting → [`Terminating`]; stop
    /// annotation → [`Stopped`] (or [`Stopping`] while a replica is still ready);
    /// `readyReplicas >= 1` → [`Ready`]; else the container's waiting or terminated state,
    /// then the first pod condition that is not `True`.
    ///
    /// [`Terminating`]: NotebookPhase::Terminating
    /// [`Stopped`]: NotebookPhase::Stopped
    /// [`Stopping`]: NotebookPhase::Stopping
    /// [`Ready`]: NotebookPhase::Ready
    pub fn phase(&self) -> NotebookPhase {
        if self.meta().deletion_timestamp.is_some() {
            return NotebookPhase::Terminating;
        }
        let ready = self.ready_replicas();
        if self.is_stopped() {
            return if ready > 0 {
                NotebookPhase::Stopping
            } else {
                NotebookPhase::Stopped
            };
        }
        if ready > 0 {
            return NotebookPhase::Ready;
        }
        let Some(status) = &self.status else {
            return NotebookPhase::Uninitialized;
        };
        if let Some(state) = &status.container_state {
            if let Some(w) = &state.waiting {
                return NotebookPhase::Waiting {
                    reason: w.reason.clone(),
                    message: w.message.clone(),
                };
            }
            if let Some(t) = &state.terminated {
                return NotebookPhase::Terminated {
                    reason: t.reason.clone(),
                    exit_code: t.exit_code,
                };
            }
        }
        if let Some(c) = status.conditions.iter().find(|c| c.status != "True") {
            return NotebookPhase::Waiting {
                reason: c
                    .reason
                    .clone()
                    .or_else(|| Some(format!("{}=False", c.type_))),
                message: c.message.clone(),
            };
        }
        NotebookPhase::Waiting {
            reason: None,
            message: None,
        }
    }
}

/// The path of a notebook under the Kubeflow gateway: `/notebook/{namespace}/{name}/`.
pub fn gateway_path(namespace: &str, name: &str) -> String {
    format!("/notebook/{namespace}/{name}/")
}

/// Notebooks in `kubeflow.org/v1beta1`, the version the Jupyter web app writes. The schema is
/// the same as v1 (the API server converts trivially), so this kind shares [`NotebookSpec`] and
/// [`NotebookStatus`] and converts to and from [`Notebook`] without loss.
pub mod v1beta1 {
    use super::*;
    use std::borrow::Cow;

    /// A `kubeflow.org/v1beta1` Notebook (see the [module docs](self)).
    #[derive(Deserialize, Clone, Debug, PartialEq)]
    #[non_exhaustive]
    pub struct Notebook {
        /// Standard object metadata.
        pub metadata: ObjectMeta,
        /// The spec.
        pub spec: NotebookSpec,
        /// The status, written by the controller.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<NotebookStatus>,
    }

    impl Serialize for Notebook {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            #[derive(Serialize)]
            struct Wire<'a> {
                #[serde(rename = "apiVersion")]
                api_version: &'a str,
                kind: &'a str,
                metadata: &'a ObjectMeta,
                spec: &'a NotebookSpec,
                #[serde(skip_serializing_if = "Option::is_none")]
                status: &'a Option<NotebookStatus>,
            }
            Wire {
                api_version: "kubeflow.org/v1beta1",
                kind: "Notebook",
                metadata: &self.metadata,
                spec: &self.spec,
                status: &self.status,
            }
            .serialize(serializer)
        }
    }

    impl Resource for Notebook {
        type DynamicType = ();
        type Scope = k8s_openapi::NamespaceResourceScope;

        fn kind(_: &()) -> Cow<'_, str> {
            Cow::Borrowed("Notebook")
        }
        fn group(_: &()) -> Cow<'_, str> {
            Cow::Borrowed("kubeflow.org")
        }
        fn version(_: &()) -> Cow<'_, str> {
            Cow::Borrowed("v1beta1")
        }
        fn api_version(_: &()) -> Cow<'_, str> {
            Cow::Borrowed("kubeflow.org/v1beta1")
        }
        fn plural(_: &()) -> Cow<'_, str> {
            Cow::Borrowed("notebooks")
        }
        fn meta(&self) -> &ObjectMeta {
            &self.metadata
        }
        fn meta_mut(&mut self) -> &mut ObjectMeta {
            &mut self.metadata
        }
    }

    impl From<Notebook> for super::Notebook {
        fn from(nb: Notebook) -> Self {
            super::Notebook {
                metadata: nb.metadata,
                spec: nb.spec,
                status: nb.status,
            }
        }
    }

    impl From<super::Notebook> for Notebook {
        fn from(nb: super::Notebook) -> Self {
            Notebook {
                metadata: nb.metadata,
                spec: nb.spec,
                status: nb.status,
            }
        }
    }
}
