//! [`InferenceClient`]: the data plane — V1 and V2 (Open Inference Protocol) REST.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use kubeflow_core::http::{HttpClient, RequestBuilder};
use kubeflow_core::{Endpoint, Error, KubeflowClient, KubeflowConfig, Result};

use crate::v2::{
    INFERENCE_HEADER_CONTENT_LENGTH, InferRequest, InferResponse, ModelMetadata, ServerMetadata,
};

/// A client of one model server (one InferenceService, or a bare KServe ModelServer), speaking
/// V1 and V2 REST.
///
/// Built on kubeflow-core's [`HttpClient`], so credentials, timeouts and error decoding are
/// shared with the rest of the SDK: KServe's `{"error": …}`, FastAPI's `{"detail": …}` and
/// non-JSON answers (an auth proxy's HTML, Envoy's text) all become [`Error::Api`] /
/// [`Error::NotAuthenticated`] with the status. Reads (GET) are retried on transient errors;
/// `predict`/`explain`/`infer` POSTs are not, unless [`retry_inference`](Self::retry_inference)
/// is set.
///
/// ```no_run
/// # async fn f() -> kubeflow_core::Result<()> {
/// use kubeflow_serving::{InferenceClient, InferRequest, InferTensor};
/// let client = InferenceClient::from_url("http://127.0.0.1:8080")?;
/// let resp = client
///     .infer("sklearn-iris", &InferRequest::new().input(InferTensor::new(
///         "input-0", vec![1, 4], vec![6.8f32, 2.8, 4.8, 1.4])?))
///     .await?;
/// println!("{:?}", resp.outputs[0].data);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct InferenceClient {
    http: HttpClient,
    host: Option<String>,
    retry_inference: bool,
    timeout: Option<Duration>,
}

#[derive(Deserialize)]
struct ModelList {
    models: Vec<String>,
}

#[derive(Deserialize)]
struct Ready {
    ready: bool,
}

#[derive(Deserialize)]
struct Live {
    live: bool,
}

impl InferenceClient {
    /// A client over an [`HttpClient`] whose base is the model server (or the InferenceService
    /// URL, path prefix included).
    pub fn new(http: HttpClient) -> Self {
        InferenceClient {
            http,
            host: None,
            retry_inference: false,
            timeout: None,
        }
    }

    /// A client of the model server at `url` (no credentials). No network I/O.
    ///
    /// # Errors
    /// [`Error::Config`] when the URL is invalid.
    pub fn from_url(url: &str) -> Result<Self> {
        Self::from_config(KubeflowConfig::new(Endpoint::direct(url)?))
    }

    /// A client of the model server the configuration's endpoint points at (with its
    /// credentials, timeouts and retry policy). No network I/O.
    ///
    /// # Errors
    /// As [`KubeflowClient::new`].
    pub fn from_config(config: KubeflowConfig) -> Result<Self> {
        Ok(Self::new(KubeflowClient::new(config)?.service("")?))
    }

    /// Sends `Host: <host>` on every request: what an Istio/Knative gateway routes on
    /// (e.g. `sklearn-iris.kubeflow-user.example.com`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Lets `predict`, `explain` and `infer` be retried on transient errors (the model must
    /// tolerate running a request twice). Off by default.
    pub fn retry_inference(mut self, yes: bool) -> Self {
        self.retry_inference = yes;
        self
    }

    /// A timeout for each request (overrides the configuration's operation timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    fn prepare(&self, mut rb: RequestBuilder, inference: bool) -> RequestBuilder {
        if let Some(h) = &self.host {
            rb = rb.header("host", h);
        }
        if let Some(t) = self.timeout {
            rb = rb.operation_timeout(t);
        }
        if inference {
            rb = rb.idempotent(self.retry_inference);
        }
        rb
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.prepare(self.http.get(path), false)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.prepare(self.http.post(path), true)
    }

    // ---------------------------------------------------------------- V1

    /// V1 `GET /`: true when the server answers (KServe's liveness route).
    ///
    /// # Errors
    /// Transport errors and error statuses.
    pub async fn v1_server_live(&self) -> Result<bool> {
        self.get("").send().await.map(|_| true)
    }

    /// V1 `GET /v1/models`: the models the server holds.
    ///
    /// # Errors
    /// Transport errors, error statuses, undecodable answers.
    pub async fn v1_list_models(&self) -> Result<Vec<String>> {
        Ok(self.get("v1/models").send_json::<ModelList>().await?.models)
    }

    /// V1 `GET /v1/models/{name}`: whether the model is ready (`false` on 503 "not ready").
    ///
    /// # Errors
    /// [`Error::Api`] with status 404 for an unknown model (see [`Error::is_not_found`]).
    pub async fn v1_model_ready(&self, model: &str) -> Result<bool> {
        ready_or_503(
            self.get(&format!("v1/models/{}", seg(model)?))
                .send_json::<Ready>()
                .await,
        )
    }

    /// V1 `POST /v1/models/{name}:predict` with any JSON body (`{"instances": [...]}`).
    ///
    /// # Errors
    /// [`Error::Api`] with the server's message (404 unknown model, 400 bad input, 500 model error…).
    pub async fn v1_predict(&self, model: &str, body: &Value) -> Result<Value> {
        self.post(&format!("v1/models/{}:predict", seg(model)?))
            .json(body)
            .send_json()
            .await
    }

    /// V1 `POST /v1/models/{name}:explain`.
    ///
    /// # Errors
    /// As [`v1_predict`](Self::v1_predict); 501 when the InferenceService has no explainer.
    pub async fn v1_explain(&self, model: &str, body: &Value) -> Result<Value> {
        self.post(&format!("v1/models/{}:explain", seg(model)?))
            .json(body)
            .send_json()
            .await
    }

    // ---------------------------------------------------------------- V2

    /// V2 `GET /v2/health/live`.
    ///
    /// # Errors
    /// Transport errors and error statuses.
    pub async fn server_live(&self) -> Result<bool> {
        Ok(self.get("v2/health/live").send_json::<Live>().await?.live)
    }

    /// V2 `GET /v2/health/ready` (`false` on 503).
    ///
    /// # Errors
    /// Transport errors and other error statuses.
    pub async fn server_ready(&self) -> Result<bool> {
        ready_or_503(self.get("v2/health/ready").send_json::<Ready>().await)
    }

    /// V2 `GET /v2`: server metadata.
    ///
    /// # Errors
    /// Transport errors, error statuses, undecodable answers.
    pub async fn server_metadata(&self) -> Result<ServerMetadata> {
        self.get("v2").send_json().await
    }

    /// V2 `GET /v2/models` (a KServe extension): the models the server holds.
    ///
    /// # Errors
    /// Transport errors, error statuses, undecodable answers.
    pub async fn list_models(&self) -> Result<Vec<String>> {
        Ok(self.get("v2/models").send_json::<ModelList>().await?.models)
    }

    /// V2 `GET /v2/models/{name}[/versions/{v}]`: model metadata.
    ///
    /// # Errors
    /// [`Error::Api`] 404 for an unknown model; 501 when versions are not supported.
    pub async fn model_metadata(
        &self,
        model: &str,
        version: Option<&str>,
    ) -> Result<ModelMetadata> {
        self.get(&model_path(model, version, "")?).send_json().await
    }

    /// V2 `GET /v2/models/{name}[/versions/{v}]/ready` (`false` on 503 "not ready").
    ///
    /// # Errors
    /// [`Error::Api`] 404 for an unknown model.
    pub async fn model_ready(&self, model: &str, version: Option<&str>) -> Result<bool> {
        ready_or_503(
            self.get(&model_path(model, version, "/ready")?)
                .send_json::<Ready>()
                .await,
        )
    }

    /// V2 `POST /v2/models/{name}/infer`.
    ///
    /// JSON requests carry `Content-Type: application/json`; requests with binary inputs use
    /// the binary tensor extension (`Inference-Header-Content-Length`), and binary outputs are
    /// decoded whatever the request asked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a tensor whose shape does not match its data (nothing is
    /// sent); [`Error::Api`] with the server's message; [`Error::Decode`] for an undecodable answer.
    pub async fn infer(&self, model: &str, request: &InferRequest) -> Result<InferResponse> {
        self.infer_version(model, None, request).await
    }

    /// As [`infer`](Self::infer), for one model version.
    ///
    /// # Errors
    /// As [`infer`](Self::infer).
    pub async fn infer_version(
        &self,
        model: &str,
        version: Option<&str>,
        request: &InferRequest,
    ) -> Result<InferResponse> {
        let path = model_path(model, version, "/infer")?;
        let (body, json_len) = request.encode()?;
        let rb = self.post(&path);
        let rb = match json_len {
            None => rb.body(body, "application/json"),
            Some(n) => rb
                .body(body, "application/octet-stream")
                .header(INFERENCE_HEADER_CONTENT_LENGTH, &n.to_string()),
        };
        let resp = rb.send().await?;
        let json_len = match resp.headers.get(INFERENCE_HEADER_CONTENT_LENGTH) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .and_then(|s| s.trim().parse::<usize>().ok())
                    .ok_or_else(|| {
                        decode_error(
                            &path,
                            resp.status.as_u16(),
                            &resp.body,
                            "the Inference-Header-Content-Length header is not a number".into(),
                        )
                    })?,
            ),
        };
        InferResponse::decode(&resp.body, json_len)
            .map_err(|m| decode_error(&path, resp.status.as_u16(), &resp.body, m))
    }
}

fn decode_error(path: &str, status: u16, body: &[u8], message: String) -> Error {
    Error::Decode(Box::new(kubeflow_core::DecodeError::new(
        "POST",
        format!("/{path}"),
        status,
        ".",
        message,
        body,
    )))
}

fn ready_or_503(r: Result<Ready>) -> Result<bool> {
    match r {
        Ok(r) => Ok(r.ready),
        Err(e) if e.status() == Some(503) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A model name or version as one path segment.
fn seg(s: &str) -> Result<&str> {
    if s.is_empty() || s.contains(['/', '?', '#', '%']) || s.chars().any(char::is_whitespace) {
        return Err(Error::invalid_argument(
            "model",
            format!(
                "`{s}` is not a valid model name or version (empty, or contains / ? # % or spaces)"
            ),
        ));
    }
    Ok(s)
}

fn model_path(model: &str, version: Option<&str>, tail: &str) -> Result<String> {
    Ok(match version {
        Some(v) => format!("v2/models/{}/versions/{}{tail}", seg(model)?, seg(v)?),
        None => format!("v2/models/{}{tail}", seg(model)?),
    })
}
