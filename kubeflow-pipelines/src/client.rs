//! The client handle and the health check.

use std::collections::BTreeMap;

use kubeflow_core::http::HttpClient;
use kubeflow_core::{KubeflowClient, KubeflowConfig, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ExperimentsApi, PipelinesApi, RecurringRunsApi, RunsApi};

/// The KFP v2beta1 REST API.
///
/// Cheap to clone. Construction does no network I/O; call [`healthz`](PipelinesClient::healthz)
/// to check the connection.
///
/// ```no_run
/// # async fn f() -> kubeflow_pipelines::Result<()> {
/// use kubeflow_pipelines::{KubeflowConfig, PipelinesClient};
/// let kfp = PipelinesClient::from_config(KubeflowConfig::infer().await?)?;
/// let health = kfp.healthz().await?;
/// println!("multi-user: {}", health.multi_user);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PipelinesClient {
    http: HttpClient,
    namespace: Option<String>,
}

/// Path prefix of every v2beta1 route.
pub(crate) const API: &str = "apis/v2beta1";

impl PipelinesClient {
    /// A client for the KFP API of a Kubeflow installation (under the gateway's `/pipeline/`,
    /// or the direct, kube-proxy or port-forward endpoint of the configuration). The
    /// configuration's namespace becomes the default namespace of experiments, runs and
    /// recurring runs.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for an unusable configuration.
    pub fn from_config(config: KubeflowConfig) -> Result<Self> {
        Self::new(KubeflowClient::new(config)?)
    }

    /// A client sharing an existing [`KubeflowClient`] (its connections and credentials).
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) when the service URL cannot be built.
    pub fn new(client: KubeflowClient) -> Result<Self> {
        Ok(PipelinesClient {
            namespace: client.namespace().map(str::to_owned),
            http: client.service("pipeline")?,
        })
    }

    /// A client over an HTTP client bound to the KFP service (e.g. from
    /// [`KubeflowClient::service`]).
    pub fn from_http(http: HttpClient) -> Self {
        PipelinesClient {
            http,
            namespace: None,
        }
    }

    /// Sets the default namespace of experiments, runs and recurring runs (multi-user mode).
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into()).filter(|n| !n.is_empty());
        self
    }

    /// The default namespace, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The raw HTTP client for routes the typed API lacks (paths relative to the KFP base,
    /// e.g. `apis/v2beta1/runs`).
    pub fn raw(&self) -> &HttpClient {
        &self.http
    }

    /// Pipelines, their versions and uploads.
    pub fn pipelines(&self) -> PipelinesApi {
        PipelinesApi::new(self.clone())
    }

    /// Experiments.
    pub fn experiments(&self) -> ExperimentsApi {
        ExperimentsApi::new(self.clone())
    }

    /// Runs.
    pub fn runs(&self) -> RunsApi {
        RunsApi::new(self.clone())
    }

    /// Recurring runs (schedules).
    pub fn recurring_runs(&self) -> RecurringRunsApi {
        RecurringRunsApi::new(self.clone())
    }

    /// `GET /apis/v2beta1/healthz`: whether the server runs in multi-user mode, and its
    /// pipeline store.
    ///
    /// # Errors
    /// The server's error, or a transport error.
    pub async fn healthz(&self) -> Result<Healthz> {
        self.http.get(&format!("{API}/healthz")).send_json().await
    }

    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }
}

/// The health check's answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Healthz {
    /// Multi-user mode: namespaces are required on experiments, runs and listings.
    #[serde(default)]
    pub multi_user: bool,
    /// Where pipelines are stored: `database` or `kubernetes` (2.14+; absent before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_store: Option<String>,
    /// The server's commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_sha: Option<String>,
    /// The server's release tag (e.g. `2.17.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_name: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Percent-encodes one path segment (ids and names are user data).
pub(crate) fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Rejects an empty id before a request is made (an empty segment would change the route).
pub(crate) fn require(name: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        Err(kubeflow_core::Error::invalid_argument(
            name,
            "must not be empty",
        ))
    } else {
        Ok(())
    }
}
