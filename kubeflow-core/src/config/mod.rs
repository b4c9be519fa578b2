//! Where Kubeflow is and how to reach it.
//!
//! A [`KubeflowConfig`] is plain data: building one does no network I/O. Use
//! [`KubeflowConfig::infer`] to read it from the environment (see [`env`](mod@env) for every variable),
//! the kfp context file, the in-cluster service account, or the kubeconfig.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::auth::Credentials;

pub mod env;
mod infer;

pub use infer::{ConfigLoader, IN_CLUSTER_DIR, InferConfigError, SourceAttempt};

/// Where a Kubeflow API is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// The Istio ingress gateway of a Kubeflow installation: the `kfui` port-forward at
    /// `http://localhost:8080`, or a public URL. Component APIs live under prefixes
    /// (`/pipeline`, `/jupyter`, `/katib`, …) and authentication happens here (Dex, tokens).
    Gateway(Url),
    /// A service reached directly, e.g. in-cluster `http://ml-pipeline.kubeflow:8888`.
    Direct(Url),
    /// Through the Kubernetes API server's service proxy
    /// (`/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/`), authenticated with the
    /// kubeconfig identity. This is what `kfp.Client` does out of cluster.
    KubeProxy {
        /// Namespace of the Service.
        namespace: String,
        /// Name of the Service.
        service: String,
        /// Port name or number of the Service (e.g. `http` or `8888`).
        port: String,
    },
    /// A port-forward of our own (see [`crate::portforward`]) to the Service, then direct HTTP.
    /// The forward starts on the first request.
    PortForward {
        /// Namespace of the Service.
        namespace: String,
        /// Name of the Service.
        service: String,
        /// Port of the Service.
        port: u16,
    },
}

impl Endpoint {
    /// The Kubeflow gateway at `url`.
    pub fn gateway(url: &str) -> crate::Result<Self> {
        Ok(Endpoint::Gateway(parse_url("gateway URL", url)?))
    }

    /// A service reached directly at `url`.
    pub fn direct(url: &str) -> crate::Result<Self> {
        Ok(Endpoint::Direct(parse_url("direct URL", url)?))
    }

    /// The local `kfui` default: the gateway port-forwarded to `http://localhost:8080`.
    pub fn kfui() -> Self {
        #[allow(clippy::unwrap_used)] // a constant that parses
        Endpoint::Gateway(Url::parse("http://localhost:8080/").unwrap())
    }

    /// The in-cluster KFP API service `http://ml-pipeline.{namespace}.svc.cluster.local:8888`.
    pub fn kfp_in_cluster(namespace: &str) -> crate::Result<Self> {
        Endpoint::direct(&format!(
            "http://ml-pipeline.{namespace}.svc.cluster.local:8888"
        ))
    }

    /// The KFP API through the Kubernetes API server's service proxy (`ml-pipeline:http`).
    pub fn kfp_kube_proxy(namespace: &str) -> Self {
        Endpoint::KubeProxy {
            namespace: namespace.to_owned(),
            service: "ml-pipeline".to_owned(),
            port: "http".to_owned(),
        }
    }

    /// Parses the forms `KUBEFLOW_ENDPOINT` accepts:
    /// `http(s)://…` (a gateway), `direct+http(s)://…`, `gateway+http(s)://…`,
    /// `kube-proxy://{namespace}/{service}:{port}` and `port-forward://{namespace}/{service}:{port}`.
    pub fn parse(text: &str) -> crate::Result<Self> {
        let text = text.trim();
        let bad = |msg: &str| {
            crate::Error::config(format!(
                "endpoint `{text}`: {msg} (expected http(s)://host, direct+http(s)://host, \
                 kube-proxy://namespace/service:port or port-forward://namespace/service:port)"
            ))
        };
        if let Some(rest) = text.strip_prefix("direct+") {
            return Endpoint::direct(rest);
        }
        if let Some(rest) = text.strip_prefix("gateway+") {
            return Endpoint::gateway(rest);
        }
        for (scheme, proxy) in [("kube-proxy://", true), ("port-forward://", false)] {
            if let Some(rest) = text.strip_prefix(scheme) {
                let (ns, svc_port) = rest
                    .split_once('/')
                    .ok_or_else(|| bad("missing `/` after the namespace"))?;
                let (svc, port) = svc_port
                    .split_once(':')
                    .ok_or_else(|| bad("missing `:port`"))?;
                if ns.is_empty() || svc.is_empty() || port.is_empty() {
                    return Err(bad("empty namespace, service or port"));
                }
                return Ok(if proxy {
                    Endpoint::KubeProxy {
                        namespace: ns.to_owned(),
                        service: svc.to_owned(),
                        port: port.to_owned(),
                    }
                } else {
                    Endpoint::PortForward {
                        namespace: ns.to_owned(),
                        service: svc.to_owned(),
                        port: port.parse().map_err(|_| bad("the port must be a number"))?,
                    }
                });
            }
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            return Endpoint::gateway(text);
        }
        Err(bad("unknown scheme"))
    }

    /// True for [`Endpoint::Gateway`].
    pub fn is_gateway(&self) -> bool {
        matches!(self, Endpoint::Gateway(_))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Gateway(u) => write!(f, "gateway {}", redact_url(u)),
            Endpoint::Direct(u) => write!(f, "direct {}", redact_url(u)),
            Endpoint::KubeProxy {
                namespace,
                service,
                port,
            } => write!(f, "kube-proxy://{namespace}/{service}:{port}"),
            Endpoint::PortForward {
                namespace,
                service,
                port,
            } => write!(f, "port-forward://{namespace}/{service}:{port}"),
        }
    }
}

/// A URL without its password (for logs and messages).
pub(crate) fn redact_url(u: &Url) -> String {
    let mut u = u.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("REDACTED"));
    }
    u.to_string()
}

pub(crate) fn parse_url(what: &str, text: &str) -> crate::Result<Url> {
    let mut url = Url::parse(text.trim()).map_err(|e| crate::Error::Config {
        message: format!("{what} `{text}` is not a valid URL: {e}"),
        source: Some(Box::new(e)),
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(crate::Error::config(format!(
            "{what} `{text}` must start with http:// or https://"
        )));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(crate::Error::config(format!("{what} `{text}` has no host")));
    }
    // A base URL always ends with `/` so that joining keeps its path prefix.
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// Timeouts. Defaults: connect 10 s, each attempt 60 s, the whole operation (retries included) 5 min.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Establishing a TCP/TLS connection.
    pub connect: Duration,
    /// One attempt of a request, from sending to the end of the body.
    pub attempt: Duration,
    /// A whole operation, all retries and backoff included.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(60),
            operation: Duration::from_secs(300),
        }
    }
}

/// Retries of idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS) on 429, 502, 503, 504,
/// connect errors and connections reset before a response. Jittered exponential backoff;
/// `Retry-After` is honoured (capped at `max_backoff`). Defaults: 4 attempts, 200 ms initial,
/// ×2, at most 10 s.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retries).
    pub max_attempts: u32,
    /// Backoff before the first retry.
    pub initial_backoff: Duration,
    /// Backoff multiplier.
    pub multiplier: f64,
    /// Upper bound of one backoff (also caps `Retry-After`).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            multiplier: 2.0,
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn disabled() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        }
    }

    /// Sets the number of attempts (at least 1).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the initial backoff.
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Sets the maximal backoff.
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The backoff before retry number `retry` (1-based), with full jitter in [50 %, 100 %].
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .multiplier
            .max(1.0)
            .powi(retry.saturating_sub(1).min(30) as i32);
        let base = self.initial_backoff.as_secs_f64() * exp;
        let capped = base.min(self.max_backoff.as_secs_f64());
        let jittered = capped * (0.5 + fastrand::f64() * 0.5);
        Duration::from_secs_f64(jittered)
    }
}

/// TLS options for the Kubeflow endpoint (the kubeconfig has its own for the Kubernetes API).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsOptions {
    /// Extra CA certificates (PEM file) trusted besides the system roots.
    pub ca_bundle: Option<PathBuf>,
    /// Accept any certificate. Only by explicit opt-in; a warning is logged when a client is built.
    pub insecure_skip_tls_verify: bool,
}

/// Everything needed to reach a Kubeflow installation. Plain data: no network I/O.
#[derive(Clone)]
#[non_exhaustive]
pub struct KubeflowConfig {
    /// Where the Kubeflow API is.
    pub endpoint: Endpoint,
    /// Who we are.
    pub credentials: Credentials,
    /// The user's namespace (profile), used when a call needs one and none is given.
    pub namespace: Option<String>,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// TLS options for the endpoint.
    pub tls: TlsOptions,
    /// An HTTP(S) proxy for the endpoint (default: none; the `HTTPS_PROXY`/`HTTP_PROXY`
    /// variables apply when this is unset, as in reqwest).
    pub proxy: Option<Url>,
    /// Extra headers sent with every request (e.g. a gateway's API key). Their values are
    /// treated as sensitive in logs.
    pub headers: BTreeMap<String, String>,
    /// The Kubernetes client configuration (for custom resources, KubeProxy, PortForward and
    /// TokenRequest), when one was found or given.
    pub kube: Option<kube::Config>,
    /// Where this configuration came from (for messages).
    pub source: String,
}

impl fmt::Debug for KubeflowConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeflowConfig")
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("namespace", &self.namespace)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("tls", &self.tls)
            .field("proxy", &self.proxy.as_ref().map(redact_url))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field(
                "kube",
                &self.kube.as_ref().map(|k| k.cluster_url.to_string()),
            )
            .field("source", &self.source)
            .finish()
    }
}

impl KubeflowConfig {
    /// A configuration for `endpoint` with no credentials and default timeouts and retries.
    pub fn new(endpoint: Endpoint) -> Self {
        KubeflowConfig {
            endpoint,
            credentials: Credentials::None,
            namespace: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            tls: TlsOptions::default(),
            proxy: None,
            headers: BTreeMap::new(),
            kube: None,
            source: "explicit".to_owned(),
        }
    }

    /// Reads the configuration from, in order of precedence: the environment (see [`env`](mod@env)),
    /// the kfp context file `~/.config/kfp/context.json`, the in-cluster service account, and
    /// the kubeconfig. Use [`ConfigLoader`] to give explicit settings that win over all of them.
    ///
    /// No network I/O: only variables and files are read.
    ///
    /// ```no_run
    /// # async fn f() -> kubeflow_core::Result<()> {
    /// let config = kubeflow_core::KubeflowConfig::infer().await?;
    /// println!("talking to {}", config.endpoint);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InferConfig`](crate::Error::InferConfig) listing what each source said when none
    /// names an endpoint; [`Error::Config`](crate::Error::Config) for a malformed variable or file.
    pub async fn infer() -> crate::Result<Self> {
        ConfigLoader::new().load().await
    }

    /// Sets the credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets the user namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets the timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = d;
        self
    }

    /// Sets the per-attempt timeout.
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.timeouts.attempt = d;
        self
    }

    /// Sets the whole-operation timeout (retries included).
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.timeouts.operation = d;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Trusts the CA certificates in a PEM file besides the system roots.
    pub fn ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_bundle = Some(path.into());
        self
    }

    /// Accepts any TLS certificate from the endpoint. Dangerous: use only against test
    /// installations. A warning is logged when a client is built with it.
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> Self {
        self.tls.insecure_skip_tls_verify = yes;
        self
    }

    /// Sends requests through this HTTP(S) proxy.
    pub fn proxy(mut self, proxy: Url) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Adds a header to every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the Kubernetes client configuration.
    pub fn kube_config(mut self, kube: kube::Config) -> Self {
        self.kube = Some(kube);
        self
    }

    /// The user namespace, or an error that says how to set one.
    pub fn require_namespace(&self) -> crate::Result<&str> {
        self.namespace.as_deref().ok_or_else(|| {
            crate::Error::invalid_argument(
                "namespace",
                "no namespace given and none configured (set KUBEFLOW_NAMESPACE or KubeflowConfig::namespace)",
            )
        })
    }
}
