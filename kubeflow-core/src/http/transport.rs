//! Where requests go: reqwest to a URL, kube's client to the API server's service proxy, or
//! reqwest through our own port-forward.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use url::Url;

use crate::config::{KubeflowConfig, redact_url};
use crate::error::BoxError;
use crate::{Error, Result};

/// What the transport got back (any status).
pub(crate) struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why nothing (or not all) came back.
pub(crate) struct TransportError {
    pub source: BoxError,
    /// Safe to retry an idempotent request: the connection failed or broke before a response.
    pub retryable: bool,
    /// The connect timeout elapsed.
    pub connect_timeout: bool,
}

impl TransportError {
    /// An error after which retrying cannot help (a bad URL, a broken body, …).
    fn fatal(e: impl Into<BoxError>) -> Self {
        TransportError {
            source: e.into(),
            retryable: false,
            connect_timeout: false,
        }
    }
}

/// Where requests go.
pub(crate) enum Transport {
    /// Plain HTTP(S) to `base` (gateway prefix included).
    Http { client: reqwest::Client, base: Url },
    /// Through the Kubernetes API server's service proxy.
    Kube {
        client: kube::Client,
        base_path: String,
    },
    /// Through our own port-forward, started on first use.
    Forward(Arc<Forward>),
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A port-forward started on first use and shared by every service of one client.
pub(crate) struct Forward {
    pub client: reqwest::Client,
    pub kube: kube::Client,
    pub namespace: String,
    pub service: String,
    pub port: u16,
    pub state: tokio::sync::OnceCell<(crate::portforward::PortForwardHandle, Url)>,
}

impl Transport {
    pub(crate) fn describe(&self) -> String {
        match self {
            Transport::Http { base, .. } => redact_url(base),
            Transport::Kube { base_path, .. } => format!("(Kubernetes API server){base_path}"),
            Transport::Forward(f) => {
                format!("port-forward://{}/{}:{}", f.namespace, f.service, f.port)
            }
        }
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        headers: HeaderMap,
        body: Bytes,
    ) -> std::result::Result<RawResponse, TransportError> {
        match self {
            Transport::Http { client, base } => {
                send_reqwest(client, base, method, path, query, headers, body).await
            }
            Transport::Kube { client, base_path } => {
                let mut uri = format!("{base_path}{path}");
                if let Some(q) = query {
                    uri.push('?');
                    uri.push_str(q);
                }
                let mut req = http::Request::builder().method(method).uri(uri);
                if let Some(h) = req.headers_mut() {
                    *h = headers;
                }
                let req = req
                    .body(kube::client::Body::from(body.to_vec()))
                    .map_err(TransportError::fatal)?;
                let resp = client.send(req).await.map_err(|e| {
                    let retryable = is_retryable_chain(&e);
                    TransportError {
                        source: Box::new(e),
                        retryable,
                        connect_timeout: false,
                    }
                })?;
                let (parts, body) = resp.into_parts();
                let body = body.collect().await.map_err(TransportError::fatal)?;
                Ok(RawResponse {
                    status: parts.status,
                    headers: parts.headers,
                    body: body.to_bytes(),
                })
            }
            Transport::Forward(f) => {
                let (_, base) =
                    f.state
                        .get_or_try_init(|| async {
                            let handle = crate::portforward::PortForward::to_service(
                                f.kube.clone(),
                                &f.namespace,
                                &f.service,
                                f.port,
                            )
                            .start()
                            .await
                            .map_err(Error::from)?;
                            let url = Url::parse(&format!("http://{}/", handle.local_addr()))
                                .map_err(|e| Error::Config {
                                    message: "the port-forward's local address is not a URL".into(),
                                    source: Some(Box::new(e)),
                                })?;
                            Ok::<_, Error>((handle, url))
                        })
                        .await
                        .map_err(TransportError::fatal)?;
                send_reqwest(&f.client, base, method, path, query, headers, body).await
            }
        }
    }
}

async fn send_reqwest(
    client: &reqwest::Client,
    base: &Url,
    method: Method,
    path: &str,
    query: Option<&str>,
    headers: HeaderMap,
    body: Bytes,
) -> std::result::Result<RawResponse, TransportError> {
    let mut url = base.join(path).map_err(TransportError::fatal)?;
    if let Some(q) = query {
        url.set_query(Some(q));
    }
    let mut req = client.request(method, url).headers(headers);
    if !body.is_empty() {
        req = req.body(body);
    }
    let resp = req.send().await.map_err(|e| {
        let connect_timeout = e.is_connect() && e.is_timeout();
        let retryable = e.is_connect() || is_retryable_chain(&e);
        TransportError {
            source: Box::new(without_url(e)),
            retryable,
            connect_timeout,
        }
    })?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .map_err(|e| TransportError::fatal(without_url(e)))?;
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// reqwest errors print the whole URL, query string included; our errors name the path instead.
fn without_url(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}

/// A connection refused, reset or closed before a response: safe to retry an idempotent request.
fn is_retryable_chain(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | BrokenPipe
                    | UnexpectedEof
            ) {
                return true;
            }
        }
        let text = err.to_string();
        if text.contains("connection closed before message completed")
            || text.contains("error trying to connect")
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The shared reqwest client for an endpoint: user agent, connect timeout, TLS options, proxy,
/// and redirects followed except to a login page (which the caller must see).
pub(crate) fn build_reqwest(config: &KubeflowConfig) -> Result<reqwest::ClientBuilder> {
    let mut b = reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .connect_timeout(config.timeouts.connect)
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .redirect(crate::auth::detect::redirect_policy());
    if let Some(path) = &config.tls.ca_bundle {
        let pem = std::fs::read(path).map_err(|source| Error::Io {
            action: "reading the CA bundle",
            path: path.clone(),
            source,
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::Config {
            message: format!("the CA bundle {} is not valid PEM", path.display()),
            source: Some(Box::new(e)),
        })?;
        if certs.is_empty() {
            return Err(Error::config(format!(
                "the CA bundle {} holds no certificate",
                path.display()
            )));
        }
        b = b.tls_certs_merge(certs);
    }
    if config.tls.insecure_skip_tls_verify {
        tracing::warn!(
            endpoint = %config.endpoint,
            "TLS certificate verification is DISABLED for the Kubeflow endpoint (insecure_skip_tls_verify): \
             anyone on the network path can read and change this traffic"
        );
        b = b.tls_danger_accept_invalid_certs(true);
    }
    if let Some(proxy) = &config.proxy {
        let p = reqwest::Proxy::all(proxy.as_str()).map_err(|e| Error::Config {
            message: format!("the proxy URL {} is not usable", redact_url(proxy)),
            source: Some(Box::new(without_url(e))),
        })?;
        b = b.proxy(p);
    }
    Ok(b)
}
