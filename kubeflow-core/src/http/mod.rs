//! The HTTP layer every REST client of the SDK shares.
//!
//! One pooled [`reqwest::Client`] per [`KubeflowClient`](crate::KubeflowClient) (HTTP/2 where
//! the server offers it), the user agent `kubeflow-rs/<version>`, timeouts for connect / each
//! attempt / the whole operation, jittered exponential backoff retries for idempotent requests
//! only, one re-authentication on 401 (or a gateway login page) for refreshable credentials,
//! and a `tracing` span per request (method, path, status, attempt, latency — never a header
//! value or a query string).
//!
//! [`HttpClient`] is also the raw escape hatch: any path the typed API lacks can be called with
//! [`HttpClient::get`] and friends.
//!
//! ```no_run
//! # async fn f() -> kubeflow_core::Result<()> {
//! let kf = kubeflow_core::KubeflowClient::new(kubeflow_core::KubeflowConfig::infer().await?)?;
//! let kfp = kf.service("pipeline")?;
//! let health: serde_json::Value = kfp.get("apis/v2beta1/healthz").send_json().await?;
//! # Ok(()) }
//! ```

mod login;
mod multipart;
mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

pub use multipart::{Multipart, Part};
pub(crate) use transport::{Forward, Transport, build_reqwest};

use crate::auth::Authenticator;
use crate::config::{RetryPolicy, Timeouts};
use crate::error::{ApiError, TimeoutKind};
use crate::{Error, Result};

/// An HTTP client bound to one Kubeflow service (e.g. KFP under the gateway's `/pipeline/`).
/// Cheap to clone; clones share the connection pool and the credentials.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    auth: Arc<Authenticator>,
    retry: RetryPolicy,
    timeouts: Timeouts,
    headers: HeaderMap,
    gateway: bool,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("transport", &self.inner.transport)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .field("timeouts", &self.inner.timeouts)
            .field("headers", &self.inner.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The request body.
#[derive(Clone, Debug, Default)]
enum Body {
    #[default]
    Empty,
    Bytes {
        data: Bytes,
        content_type: HeaderValue,
    },
}

/// A request being built: `client.get("apis/v2beta1/runs").query(&q).send_json().await`.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    client: HttpClient,
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
    idempotent: Option<bool>,
    attempt_timeout: Option<Duration>,
    operation_timeout: Option<Duration>,
    error: Option<Error>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A successful response (status 2xx), its body read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// How many attempts it took (1 = no retry).
    pub attempts: u32,
}

impl Response {
    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl HttpClient {
    pub(crate) fn from_parts(
        transport: Transport,
        auth: Arc<Authenticator>,
        retry: RetryPolicy,
        timeouts: Timeouts,
        headers: HeaderMap,
        gateway: bool,
    ) -> Self {
        HttpClient {
            inner: Arc::new(Inner {
                transport,
                auth,
                retry,
                timeouts,
                headers,
                gateway,
            }),
        }
    }

    /// Where requests go (for messages), e.g. `http://localhost:8080/pipeline/`.
    pub fn base(&self) -> String {
        self.inner.transport.describe()
    }

    /// Starts a request with any method. `path` is relative to the service's base
    /// (e.g. `apis/v2beta1/runs`); a leading `/` is ignored.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        // A query string written into the path is kept as the query (and out of messages).
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned()).filter(|q| !q.is_empty())),
            None => (path, None),
        };
        RequestBuilder {
            client: self.clone(),
            method,
            path: path.trim_start_matches('/').to_owned(),
            query,
            headers: HeaderMap::new(),
            body: Body::Empty,
            idempotent: None,
            attempt_timeout: None,
            operation_timeout: None,
            error: None,
        }
    }

    /// Starts a GET.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// Starts a POST.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// Starts a PUT.
    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    /// Starts a PATCH.
    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    /// Starts a DELETE.
    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }
}

impl RequestBuilder {
    fn fail(mut self, e: Error) -> Self {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self
    }

    fn build_error(&self, message: String, source: Option<crate::error::BoxError>) -> Error {
        Error::BuildRequest {
            method: self.method.to_string(),
            path: format!("/{}", self.path),
            message,
            source,
        }
    }

    /// Adds query parameters (form-encoded; `None` fields are left out). May be called several times.
    pub fn query<T: Serialize + ?Sized>(self, query: &T) -> Self {
        match serde_urlencoded::to_string(query) {
            Ok(q) if q.is_empty() => self,
            Ok(q) => {
                let mut me = self;
                me.query = Some(match me.query.take() {
                    Some(prev) => format!("{prev}&{q}"),
                    None => q,
                });
                me
            }
            Err(e) => {
                let err = self.build_error(
                    "the query parameters do not serialise".into(),
                    Some(Box::new(e)),
                );
                self.fail(err)
            }
        }
    }

    /// Adds a header. Values of `authorization`, `cookie` and `proxy-authorization` are marked
    /// sensitive.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = match HeaderName::from_bytes(name.as_bytes()) {
            Ok(n) => n,
            Err(_) => {
                let err = self.build_error(format!("`{name}` is not a valid header name"), None);
                return self.fail(err);
            }
        };
        match HeaderValue::from_str(value) {
            Ok(mut v) => {
                v.set_sensitive(is_sensitive(&name));
                self.headers.insert(name, v);
                self
            }
            Err(_) => {
                let err =
                    self.build_error(format!("the value of header `{name}` is not valid"), None);
                self.fail(err)
            }
        }
    }

    /// Sets a JSON body.
    pub fn json<T: Serialize + ?Sized>(self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(data) => {
                let mut me = self;
                me.body = Body::Bytes {
                    data: data.into(),
                    content_type: HeaderValue::from_static("application/json"),
                };
                me
            }
            Err(e) => {
                let err =
                    self.build_error("the JSON body does not serialise".into(), Some(Box::new(e)));
                self.fail(err)
            }
        }
    }

    /// Sets a raw body with its content type.
    pub fn body(mut self, data: impl Into<Bytes>, content_type: &str) -> Self {
        match HeaderValue::from_str(content_type) {
            Ok(ct) => {
                self.body = Body::Bytes {
                    data: data.into(),
                    content_type: ct,
                };
                self
            }
            Err(_) => {
                let err = self.build_error(
                    format!("`{content_type}` is not a valid content type"),
                    None,
                );
                self.fail(err)
            }
        }
    }

    /// Sets a `multipart/form-data` body.
    pub fn multipart(mut self, form: Multipart) -> Self {
        let (data, content_type) = form.encode();
        self.body = Body::Bytes { data, content_type };
        self
    }

    /// Overrides whether the request may be retried. By default GET, HEAD, PUT, DELETE and
    /// OPTIONS are retried and POST and PATCH are not.
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    /// Overrides the per-attempt timeout for this request (e.g. a long upload).
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.attempt_timeout = Some(d);
        self
    }

    /// Overrides the whole-operation timeout for this request.
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.operation_timeout = Some(d);
        self
    }

    /// Sends the request; any non-2xx answer becomes an error.
    ///
    /// # Errors
    /// [`Error::Api`] when the server answers with an error status, [`Error::NotAuthenticated`]
    /// when the gateway wants a login, [`Error::Timeout`], [`Error::Transport`], and
    /// [`Error::BuildRequest`] for invalid input.
    pub async fn send(self) -> Result<Response> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let inner = self.client.inner.clone();
        let operation = self.operation_timeout.unwrap_or(inner.timeouts.operation);
        let method = self.method.clone();
        let path = format!("/{}", self.path);
        match tokio::time::timeout(operation, execute(&inner, self)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                method: method.to_string(),
                path,
                kind: TimeoutKind::Operation,
                after: operation,
            }),
        }
    }

    /// Sends the request and decodes a JSON answer; decode errors name the JSON path.
    ///
    /// # Errors
    /// As [`RequestBuilder::send`], plus [`Error::Decode`].
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        let method = self.method.to_string();
        let path = format!("/{}", self.path);
        let resp = self.send().await?;
        crate::error::decode_json(&method, &path, resp.status.as_u16(), &resp.body)
    }
}

fn is_sensitive(name: &HeaderName) -> bool {
    name == http::header::AUTHORIZATION
        || name == http::header::COOKIE
        || name == http::header::PROXY_AUTHORIZATION
        || name.as_str().contains("token")
        || name.as_str().contains("secret")
        || name.as_str().contains("api-key")
}

/// Headers from the configuration; every value is treated as sensitive.
pub(crate) fn config_headers(
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<HeaderMap> {
    let mut out = HeaderMap::new();
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| Error::config(format!("`{k}` is not a valid header name")))?;
        let mut value = HeaderValue::from_str(v).map_err(|_| {
            Error::config(format!(
                "the value of header `{k}` is not a valid header value"
            ))
        })?;
        value.set_sensitive(true);
        out.insert(name, value);
    }
    Ok(out)
}

fn default_idempotent(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// What one attempt gave.
enum Outcome {
    Done(Response),
    /// Retry after this delay (idempotent requests only).
    Retry(Duration, Error),
    /// Credentials must be refreshed (these were refused), then retried once.
    Reauth(Error, Vec<(HeaderName, HeaderValue)>),
    Fail(Error),
}

async fn execute(inner: &Inner, req: RequestBuilder) -> Result<Response> {
    let method = req.method.clone();
    let path = format!("/{}", req.path);
    let idempotent = req
        .idempotent
        .unwrap_or_else(|| default_idempotent(&method));
    let attempt_timeout = req.attempt_timeout.unwrap_or(inner.timeouts.attempt);
    let max_attempts = if idempotent {
        inner.retry.max_attempts.max(1)
    } else {
        1
    };
    let mut attempt: u32 = 0;
    let mut reauthed = false;
    loop {
        attempt += 1;
        let span = tracing::debug_span!(
            "kubeflow.http",
            method = %method,
            path = %path,
            attempt,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = one_attempt(inner, &req, &path, attempt_timeout, attempt, max_attempts)
            .instrument(span.clone())
            .await;
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        match outcome {
            Outcome::Done(mut r) => {
                span.record("status", r.status.as_u16());
                tracing::debug!(parent: &span, "request finished");
                r.attempts = attempt;
                return Ok(r);
            }
            Outcome::Retry(delay, err) => {
                tracing::info!(parent: &span, delay_ms = delay.as_millis() as u64, error = %err, "retrying");
                tokio::time::sleep(delay).await;
            }
            Outcome::Reauth(err, used) => {
                if reauthed || !inner.auth.can_refresh() {
                    return Err(err);
                }
                reauthed = true;
                attempt -= 1; // a re-authentication is not a retry
                tracing::info!(parent: &span, "credentials rejected; authenticating again");
                // Skips the login when a concurrent request already refreshed these credentials.
                inner.auth.refresh_after(&used).await?;
            }
            Outcome::Fail(err) => {
                tracing::debug!(parent: &span, error = %err, "request failed");
                return Err(err);
            }
        }
    }
}

async fn one_attempt(
    inner: &Inner,
    req: &RequestBuilder,
    path: &str,
    attempt_timeout: Duration,
    attempt: u32,
    max_attempts: u32,
) -> Outcome {
    let method = &req.method;
    let can_retry = attempt < max_attempts;
    let mut headers = inner.headers.clone();
    let auth_headers = match inner.auth.headers().await {
        Ok(h) => h,
        Err(e) => return Outcome::Fail(e),
    };
    for (k, v) in &auth_headers {
        headers.insert(k.clone(), v.clone());
    }
    for (k, v) in &req.headers {
        headers.insert(k.clone(), v.clone());
    }
    let (body, content_type) = match &req.body {
        Body::Empty => (Bytes::new(), None),
        Body::Bytes { data, content_type } => (data.clone(), Some(content_type.clone())),
    };
    if let Some(ct) = content_type {
        headers.insert(CONTENT_TYPE, ct);
    }
    let send = inner.transport.send(
        method.clone(),
        &req.path,
        req.query.as_deref(),
        headers,
        body,
    );
    let result = tokio::time::timeout(attempt_timeout, send).await;
    let attempts_text = if attempt > 1 {
        format!(" (after {attempt} attempts)")
    } else {
        String::new()
    };
    let raw = match result {
        Err(_) => {
            let err = Error::Timeout {
                method: method.to_string(),
                path: path.to_owned(),
                kind: TimeoutKind::Attempt,
                after: attempt_timeout,
            };
            return if can_retry {
                Outcome::Retry(inner.retry.backoff(attempt), err)
            } else {
                Outcome::Fail(err)
            };
        }
        Ok(Err(te)) => {
            let retryable = te.retryable;
            let err = if te.connect_timeout {
                Error::Timeout {
                    method: method.to_string(),
                    path: path.to_owned(),
                    kind: TimeoutKind::Connect,
                    after: inner.timeouts.connect,
                }
            } else {
                Error::Transport {
                    method: method.to_string(),
                    path: path.to_owned(),
                    attempts_text,
                    source: te.source,
                }
            };
            return if can_retry && retryable {
                Outcome::Retry(inner.retry.backoff(attempt), err)
            } else {
                Outcome::Fail(err)
            };
        }
        Ok(Ok(raw)) => raw,
    };
    tracing::Span::current().record("status", raw.status.as_u16());
    let status = raw.status;
    let content_type = raw
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    if let Some(why) = login::login_required(inner.gateway, status, &raw.headers, &raw.body) {
        let err = Error::NotAuthenticated {
            method: method.to_string(),
            path: path.to_owned(),
            message: why,
        };
        return Outcome::Reauth(err, auth_headers);
    }
    if status.is_success() {
        return Outcome::Done(Response {
            status,
            headers: raw.headers,
            body: raw.body,
            attempts: attempt,
        });
    }
    let api = ApiError::from_body(
        status.as_u16(),
        method.as_str(),
        path,
        content_type.as_deref(),
        &raw.body,
    );
    let err = Error::Api(Box::new(api));
    if status == StatusCode::UNAUTHORIZED {
        return Outcome::Reauth(err, auth_headers);
    }
    let retry_status = matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    );
    if retry_status && can_retry {
        // The server's Retry-After wins over our backoff, capped so a bad value cannot stall us.
        let delay = retry_after(&raw.headers)
            .map(|d| d.min(inner.retry.max_backoff))
            .unwrap_or_else(|| inner.retry.backoff(attempt));
        return Outcome::Retry(delay, err);
    }
    Outcome::Fail(err)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn idempotency_defaults() {
        assert!(default_idempotent(&Method::GET));
        assert!(default_idempotent(&Method::DELETE));
        assert!(default_idempotent(&Method::PUT));
        assert!(!default_idempotent(&Method::POST));
        assert!(!default_idempotent(&Method::PATCH));
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        let p = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(250));
        for retry in 1..10 {
            let d = p.backoff(retry);
            assert!(d <= Duration::from_millis(250), "{d:?}");
            assert!(d >= Duration::from_millis(50), "{d:?}");
        }
        let first = p.backoff(1);
        assert!(first <= Duration::from_millis(100) && first >= Duration::from_millis(50));
    }
}
