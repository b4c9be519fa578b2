//! The client handle and the health check.

use std::collections::BTreeMap;

use kubeflow_core::http::{HttpClient, RequestBuilder};
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
#[derive(Clone)]
pub struct PipelinesClient {
    http: HttpClient,
    namespace: Option<String>,
    /// Whether the endpoint is a direct connection to the API server (trusted for a user id).
    direct: bool,
    /// `(header, user)` sent with every request, when configured.
    user_id: Option<(String, String)>,
}

impl std::fmt::Debug for PipelinesClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelinesClient")
            .field("http", &self.http)
            .field("namespace", &self.namespace)
            .field("user_id_header", &self.user_id.as_ref().map(|(h, _)| h))
            .finish()
    }
}

/// The header Kubeflow's manifests configure for the user identity (`KUBEFLOW_USERID_HEADER`).
pub const DEFAULT_USERID_HEADER: &str = "kubeflow-userid";

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
            direct: matches!(client.config().endpoint, kubeflow_core::Endpoint::Direct(_)),
            http: client.service("pipeline")?,
            user_id: None,
        })
    }

    /// A client over an HTTP client bound to the KFP service (e.g. from
    /// [`KubeflowClient::service`]).
    pub fn from_http(http: HttpClient) -> Self {
        PipelinesClient {
            http,
            namespace: None,
            direct: false,
            user_id: None,
        }
    }

    /// Sends the user's identity in the `kubeflow-userid` header with every request, as
    /// Kubeflow's gateway does after login. Only for a **direct, trusted** connection to the
    /// API server (e.g. a service inside the mesh that the server trusts to assert users):
    /// Kubeflow's Istio policies reject the header from anyone else, and through the gateway
    /// it must come from the gateway, so this refuses any other endpoint. Use a bearer token
    /// otherwise.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the client was not built
    /// from a [`Endpoint::Direct`](kubeflow_core::Endpoint::Direct) configuration, or for an
    /// empty user.
    pub fn with_user_id(self, user: impl Into<String>) -> Result<Self> {
        self.with_user_id_header(DEFAULT_USERID_HEADER, user)
    }

    /// As [`with_user_id`](PipelinesClient::with_user_id), with the header name the server is
    /// configured with (`KUBEFLOW_USERID_HEADER`; the user is sent without a prefix).
    ///
    /// # Errors
    /// As [`with_user_id`](PipelinesClient::with_user_id).
    pub fn with_user_id_header(
        mut self,
        header: impl Into<String>,
        user: impl Into<String>,
    ) -> Result<Self> {
        let user = user.into();
        if !self.direct {
            return Err(kubeflow_core::Error::invalid_argument(
                "user id",
                "a user id header is only sent over a direct connection to the KFP API server \
                 (Endpoint::Direct); through the gateway or a proxy use credentials instead",
            ));
        }
        require("user id", &user)?;
        self.user_id = Some((header.into(), user));
        Ok(self)
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

    /// A request with the user id header, if configured.
    pub(crate) fn request(&self, method: http::Method, path: &str) -> RequestBuilder {
        let req = self.http.request(method, path);
        match &self.user_id {
            Some((header, user)) => req.header(header, user),
            None => req,
        }
    }

    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.request(http::Method::GET, path)
    }

    pub(crate) fn post(&self, path: &str) -> RequestBuilder {
        self.request(http::Method::POST, path)
    }

    pub(crate) fn patch(&self, path: &str) -> RequestBuilder {
        self.request(http::Method::PATCH, path)
    }

    pub(crate) fn delete(&self, path: &str) -> RequestBuilder {
        self.request(http::Method::DELETE, path)
    }
}

/// The health check's answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Healthz {
    /// Multi-user mode: namespaces are required on experiments, runs and listings.
    #[serde(default, deserialize_with = "crate::serde_util::null_default")]
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
