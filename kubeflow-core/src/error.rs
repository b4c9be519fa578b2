//! Errors of kubeflow-core, and the API error shapes every Kubeflow server sends.
//!
//! Errors are split the way a caller needs to react to them (after aws-sdk-rust): the
//! configuration was wrong, the request could not be built, it timed out, it could not be sent,
//! the response could not be read, the gateway wants a login, or the service said no
//! ([`ApiError`], with status, code, message and details).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

/// A boxed error used as the source of some variants.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with kubeflow-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How many bytes of a response body an error keeps.
pub(crate) const SNIPPET_LEN: usize = 512;

/// Every error kubeflow-core returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid (a bad URL, an unreadable CA bundle, a bad header value…).
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong, and where.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// No configuration source worked; each source says why.
    #[error(transparent)]
    InferConfig(#[from] crate::config::InferConfigError),

    /// An argument given by the caller is invalid.
    #[error("invalid argument `{name}`: {message}")]
    InvalidArgument {
        /// The argument's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },

    /// The request could not be built (e.g. a body that does not serialise).
    #[error("could not build the request {method} {path}: {message}")]
    BuildRequest {
        /// HTTP method.
        method: String,
        /// Path of the request (no query string).
        path: String,
        /// What went wrong.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// A timeout elapsed.
    #[error("{method} {path}: {kind} timed out after {after:?}")]
    Timeout {
        /// HTTP method (or the operation's name).
        method: String,
        /// Path of the request.
        path: String,
        /// Which timeout.
        kind: TimeoutKind,
        /// The configured limit.
        after: Duration,
    },

    /// The request could not be sent, or the connection broke before a response arrived.
    #[error("{method} {path}: could not reach the server{attempts_text}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Path of the request.
        path: String,
        /// `" (after N attempts)"` when retries were made, else empty.
        attempts_text: String,
        /// The transport error.
        #[source]
        source: BoxError,
    },

    /// The server answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The Kubeflow gateway wants a login: it answered with a login page, a redirect to Dex or
    /// oauth2-proxy, or a 401/403 from the auth proxy.
    #[error(
        "not authenticated to the Kubeflow gateway ({method} {path}): {message}. Configure credentials: \
         a Dex login (KUBEFLOW_USERNAME/KUBEFLOW_PASSWORD), a bearer token (KUBEFLOW_TOKEN) or a session cookie (KUBEFLOW_COOKIE)"
    )]
    NotAuthenticated {
        /// HTTP method.
        method: String,
        /// Path of the request.
        path: String,
        /// What the gateway did (e.g. "redirected to /dex/auth").
        message: String,
    },

    /// Logging in or obtaining a token failed (wrong password, unreadable token file, …).
    #[error("authentication failed: {message}")]
    Auth {
        /// What went wrong. Never contains a secret.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// The response body could not be decoded (boxed: it carries the request, the JSON path
    /// and a snippet of the body).
    #[error(transparent)]
    Decode(Box<DecodeError>),

    /// An error from the Kubernetes client.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),

    /// A port-forward failed.
    #[error(transparent)]
    PortForward(#[from] crate::portforward::Error),

    /// Waiting for a condition failed (deadline, the object went away, the watch broke).
    #[error(transparent)]
    Wait(#[from] crate::wait::WaitError),

    /// Reading or writing a local file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing ("reading", "writing").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Builds a [`Error::Config`] without a source.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    /// Builds a [`Error::InvalidArgument`].
    pub fn invalid_argument(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name: name.into(),
            message: message.into(),
        }
    }

    /// The API error, when the server answered with an error status.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of the server's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode(d) => Some(d.status),
            Error::Kube(kube::Error::Api(s)) => Some(s.code),
            _ => None,
        }
    }

    /// True when the server said the object does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when the server said the object already exists (HTTP 409).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }

    /// True for timeouts.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }
}

/// A response body that could not be decoded.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{method} {path}: could not decode the response (status {status}) at `{json_path}`: {message}; body starts with: {snippet}"
)]
#[non_exhaustive]
pub struct DecodeError {
    /// HTTP method.
    pub method: String,
    /// Path of the request.
    pub path: String,
    /// HTTP status of the response.
    pub status: u16,
    /// JSON path where decoding failed (`.` for the root).
    pub json_path: String,
    /// The decoder's message.
    pub message: String,
    /// The first bytes of the body.
    pub snippet: String,
}

impl DecodeError {
    /// A decode error (for clients that decode bodies themselves).
    pub fn new(
        method: impl Into<String>,
        path: impl Into<String>,
        status: u16,
        json_path: impl Into<String>,
        message: impl Into<String>,
        body: &[u8],
    ) -> Self {
        DecodeError {
            method: method.into(),
            path: path.into(),
            status,
            json_path: json_path.into(),
            message: message.into(),
            snippet: snippet(body),
        }
    }
}

/// Which timeout elapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing the connection.
    Connect,
    /// One attempt of a request.
    Attempt,
    /// The whole operation, retries included.
    Operation,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connecting",
            TimeoutKind::Attempt => "the attempt",
            TimeoutKind::Operation => "the operation",
        })
    }
}

/// The shape an error body came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorFormat {
    /// `google.rpc.Status`: `{code, message, details}` (KFP, grpc-gateway).
    RpcStatus,
    /// KFP's pipeline upload: `{error_message, error_details}`.
    KfpUpload,
    /// KServe model server: `{"error": "..."}`.
    KServe,
    /// FastAPI: `{"detail": "..."}` or `{"detail": [{loc, msg, type}]}`.
    FastApi,
    /// Kubernetes `Status`: `{kind: "Status", status: "Failure", message, reason, code, details}`.
    KubernetesStatus,
    /// The Jupyter web app and similar backends: `{success: false, log, status}`.
    CrudWebApp,
    /// Some other JSON.
    OtherJson,
    /// Not JSON (plain text, HTML, empty).
    Text,
}

/// An error answer from a server, parsed from whatever shape it came in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// HTTP method of the request.
    pub method: String,
    /// Path of the request (no query string).
    pub path: String,
    /// The server's error code (gRPC code for google.rpc.Status, `code` of a Kubernetes Status).
    pub code: Option<i64>,
    /// A machine-readable reason (Kubernetes `reason`, e.g. `NotFound`, `AlreadyExists`, `Invalid`).
    pub reason: Option<String>,
    /// The human-readable message.
    pub message: String,
    /// Structured details, if any (google.rpc.Status `details`, Kubernetes `details`,
    /// FastAPI validation errors, KFP `error_details`).
    pub details: Vec<Value>,
    /// The shape the body came in.
    pub format: ErrorFormat,
    /// The first bytes of the raw body.
    pub body_snippet: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: HTTP {}", self.method, self.path, self.status)?;
        if let Some(reason) = &self.reason {
            write!(f, " {reason}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// Parses an error body. Never fails: a body we do not recognise is kept as text.
    pub fn from_body(
        status: u16,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Self {
        let snippet = snippet(body);
        let mut err = ApiError {
            status,
            method: method.to_owned(),
            path: path.to_owned(),
            code: None,
            reason: None,
            message: String::new(),
            details: Vec::new(),
            format: ErrorFormat::Text,
            body_snippet: snippet.clone(),
        };
        let json: Option<Value> = serde_json::from_slice(body).ok();
        match json {
            Some(Value::Object(map)) => {
                err.format = ErrorFormat::OtherJson;
                let s = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
                if map.get("kind").and_then(Value::as_str) == Some("Status") {
                    err.format = ErrorFormat::KubernetesStatus;
                    err.message = s("message").unwrap_or_default();
                    err.reason = s("reason").filter(|r| !r.is_empty());
                    err.code = map.get("code").and_then(Value::as_i64);
                    if let Some(d) = map.get("details") {
                        err.details.push(d.clone());
                    }
                } else if map.contains_key("error_message") || map.contains_key("error_details") {
                    err.format = ErrorFormat::KfpUpload;
                    err.message = s("error_message").unwrap_or_default();
                    if let Some(d) =
                        s("error_details").filter(|d| !d.is_empty() && *d != err.message)
                    {
                        err.details.push(Value::String(d));
                    }
                } else if map.contains_key("message")
                    && (map.contains_key("code") || map.contains_key("details"))
                {
                    err.format = ErrorFormat::RpcStatus;
                    err.message = s("message").unwrap_or_default();
                    err.code = map.get("code").and_then(Value::as_i64);
                    if let Some(Value::Array(d)) = map.get("details") {
                        err.details.clone_from(d);
                    }
                } else if let Some(e) = map.get("error") {
                    err.format = ErrorFormat::KServe;
                    err.message = match e {
                        Value::String(s) => s.clone(),
                        Value::Object(o) => o
                            .get("message")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .unwrap_or_else(|| e.to_string()),
                        other => other.to_string(),
                    };
                } else if let Some(d) = map.get("detail") {
                    err.format = ErrorFormat::FastApi;
                    match d {
                        Value::String(s) => err.message = s.clone(),
                        Value::Array(items) => {
                            err.message = items
                                .iter()
                                .map(fastapi_item)
                                .collect::<Vec<_>>()
                                .join("; ");
                            err.details.clone_from(items);
                        }
                        other => err.message = other.to_string(),
                    }
                } else if map.get("success") == Some(&Value::Bool(false)) {
                    err.format = ErrorFormat::CrudWebApp;
                    err.message = s("log").or_else(|| s("message")).unwrap_or_default();
                } else {
                    err.message = s("message").unwrap_or_else(|| snippet.clone());
                }
            }
            _ => {
                let text = String::from_utf8_lossy(body);
                let looks_html = content_type.is_some_and(|c| c.contains("html"))
                    || text.trim_start().starts_with('<');
                err.message = if looks_html {
                    html_title(&text)
                        .unwrap_or_else(|| "the server answered with an HTML page".to_owned())
                } else {
                    text.trim().chars().take(SNIPPET_LEN).collect()
                };
            }
        }
        if err.message.is_empty() {
            err.message = http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_owned();
        }
        err
    }
}

fn fastapi_item(item: &Value) -> String {
    let msg = item.get("msg").and_then(Value::as_str).unwrap_or("invalid");
    match item.get("loc").and_then(Value::as_array) {
        Some(loc) => {
            let loc: Vec<String> = loc
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            format!("{} ({})", msg, loc.join("."))
        }
        None => msg.to_owned(),
    }
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = lower[start..].find("</title>")? + start;
    let title = text.get(start..end)?.trim();
    (!title.is_empty()).then(|| format!("the server answered with an HTML page titled \"{title}\""))
}

/// The first [`SNIPPET_LEN`] bytes of a body, as text (lossy), on one line.
pub(crate) fn snippet(body: &[u8]) -> String {
    let cut = &body[..body.len().min(SNIPPET_LEN)];
    let mut s: String = String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.len() > SNIPPET_LEN {
        s.push('…');
    }
    s
}

/// Decodes JSON, naming the path where it failed.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    method: &str,
    path: &str,
    status: u16,
    body: &[u8],
) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        Error::Decode(Box::new(DecodeError {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            json_path: e.path().to_string(),
            message: e.inner().to_string(),
            snippet: snippet(body),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> ApiError {
        ApiError::from_body(
            status,
            "GET",
            "/x",
            Some("application/json"),
            body.as_bytes(),
        )
    }

    #[test]
    fn rpc_status() {
        let e = parse(
            404,
            r#"{"code":5,"message":"Failed to get pipeline: ResourceNotFoundError","details":[{"@type":"type.googleapis.com/google.rpc.Status"}]}"#,
        );
        assert_eq!(e.format, ErrorFormat::RpcStatus);
        assert_eq!(e.code, Some(5));
        assert_eq!(e.message, "Failed to get pipeline: ResourceNotFoundError");
        assert_eq!(e.details.len(), 1);
        assert_eq!(
            e.to_string(),
            "GET /x: HTTP 404: Failed to get pipeline: ResourceNotFoundError"
        );
    }

    #[test]
    fn kfp_upload() {
        let e = parse(
            400,
            r#"{"error_message":"Failed to upload pipeline","error_details":"Failed to upload pipeline: file too large"}"#,
        );
        assert_eq!(e.format, ErrorFormat::KfpUpload);
        assert_eq!(e.message, "Failed to upload pipeline");
        assert_eq!(
            e.details,
            vec![Value::String(
                "Failed to upload pipeline: file too large".into()
            )]
        );
    }

    #[test]
    fn kserve_and_fastapi() {
        let e = parse(404, r#"{"error":"Model with name nope does not exist."}"#);
        assert_eq!(e.format, ErrorFormat::KServe);
        assert_eq!(e.message, "Model with name nope does not exist.");
        let e = parse(405, r#"{"detail":"Method Not Allowed"}"#);
        assert_eq!(e.format, ErrorFormat::FastApi);
        assert_eq!(e.message, "Method Not Allowed");
        let e = parse(
            422,
            r#"{"detail":[{"type":"missing","loc":["body","InferenceRequest","inputs"],"msg":"Field required","input":{}}]}"#,
        );
        assert_eq!(e.format, ErrorFormat::FastApi);
        assert_eq!(e.message, "Field required (body.InferenceRequest.inputs)");
        assert_eq!(e.details.len(), 1);
    }

    #[test]
    fn kubernetes_status() {
        let e = parse(
            409,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"experiments.kubeflow.org \"x\" already exists","reason":"AlreadyExists","details":{"name":"x"},"code":409}"#,
        );
        assert_eq!(e.format, ErrorFormat::KubernetesStatus);
        assert_eq!(e.reason.as_deref(), Some("AlreadyExists"));
        assert_eq!(e.code, Some(409));
        assert!(
            e.to_string()
                .contains("AlreadyExists: experiments.kubeflow.org")
        );
    }

    #[test]
    fn crud_web_app() {
        let e = parse(
            403,
            r#"{"success":false,"log":"User is not authorized","status":403,"user":"a@b"}"#,
        );
        assert_eq!(e.format, ErrorFormat::CrudWebApp);
        assert_eq!(e.message, "User is not authorized");
    }

    #[test]
    fn non_json_bodies() {
        let e = ApiError::from_body(
            502,
            "GET",
            "/p",
            Some("text/html"),
            b"<html><head><title>502 Bad Gateway</title></head></html>",
        );
        assert_eq!(e.format, ErrorFormat::Text);
        assert_eq!(
            e.message,
            "the server answered with an HTML page titled \"502 Bad Gateway\""
        );
        let e = ApiError::from_body(503, "GET", "/p", None, b"upstream connect error\n");
        assert_eq!(e.message, "upstream connect error");
        let e = ApiError::from_body(500, "GET", "/p", None, b"");
        assert_eq!(e.message, "Internal Server Error");
    }

    #[test]
    fn snippets_are_bounded() {
        let body = vec![b'a'; 10_000];
        let e = ApiError::from_body(500, "GET", "/p", None, &body);
        assert!(e.body_snippet.chars().count() <= SNIPPET_LEN + 1);
    }

    #[test]
    fn decode_names_the_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            runs: Vec<Inner>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            run_id: String,
        }
        let err = decode_json::<Outer>(
            "GET",
            "/apis/v2beta1/runs",
            200,
            br#"{"runs":[{"run_id":"a"},{"run_id":5}]}"#,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("runs[1].run_id"), "{text}");
        assert!(text.contains("body starts with"), "{text}");
    }
}
