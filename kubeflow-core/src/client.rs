//! The client handle component crates build on.

use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::auth::{AuthContext, Authenticator};
use crate::config::{Endpoint, KubeflowConfig};
use crate::http::{Forward, HttpClient, Transport, build_reqwest, config_headers};
use crate::{Error, Result};

/// A connection to a Kubeflow installation: the HTTP layer, the credentials and, when
/// configured, a Kubernetes client. Cheap to clone; clones share connections and sessions.
///
/// ```no_run
/// # async fn f() -> kubeflow_core::Result<()> {
/// use kubeflow_core::{KubeflowClient, KubeflowConfig};
/// let kf = KubeflowClient::new(KubeflowConfig::infer().await?)?;
/// let kfp = kf.service("pipeline")?; // KFP under the gateway, or the direct URL
/// let healthz: serde_json::Value = kfp.get("apis/v2beta1/healthz").send_json().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct KubeflowClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: KubeflowConfig,
    http: reqwest::Client,
    auth: Arc<Authenticator>,
    kube: Option<kube::Client>,
    headers: http::HeaderMap,
    forward: Option<Arc<Forward>>,
}

impl fmt::Debug for KubeflowClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeflowClient")
            .field("endpoint", &self.inner.config.endpoint)
            .field("credentials", &self.inner.config.credentials)
            .field("namespace", &self.inner.config.namespace)
            .field("kube", &self.inner.kube.is_some())
            .finish()
    }
}

/// Builds a [`KubeflowClient`], optionally with your own `reqwest::Client` or `kube::Client`.
#[must_use]
pub struct KubeflowClientBuilder {
    config: KubeflowConfig,
    http: Option<reqwest::Client>,
    kube: Option<kube::Client>,
}

impl fmt::Debug for KubeflowClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeflowClientBuilder")
            .field("config", &self.config)
            .field("http", &self.http.is_some())
            .field("kube", &self.kube.is_some())
            .finish()
    }
}

impl KubeflowClientBuilder {
    /// Uses your own `reqwest::Client` for the Kubeflow endpoint (its TLS, proxy and pool
    /// settings apply; the configuration's TLS and proxy options are then ignored).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Uses your own `kube::Client` for custom resources, the kube proxy and port-forwards.
    pub fn kube_client(mut self, client: kube::Client) -> Self {
        self.kube = Some(client);
        self
    }

    /// Builds the client. No network I/O.
    ///
    /// # Errors
    /// [`Error::Config`] for invalid TLS, proxy or header settings, or an endpoint that needs a
    /// Kubernetes client when none is configured.
    pub fn build(self) -> Result<KubeflowClient> {
        let config = self.config;
        // Validate the reqwest settings once, so the closure below cannot fail later.
        let builder_ok = build_reqwest(&config)?;
        let http = match self.http {
            Some(c) => c,
            None => builder_ok.build().map_err(|e| Error::Config {
                message: "could not build the HTTP client".into(),
                source: Some(Box::new(e)),
            })?,
        };
        let kube = match (self.kube, &config.kube) {
            (Some(k), _) => Some(k),
            (None, Some(kc)) => Some(kube::Client::try_from(kc.clone())?),
            (None, None) => None,
        };
        let needs_kube = matches!(
            config.endpoint,
            Endpoint::KubeProxy { .. } | Endpoint::PortForward { .. }
        );
        if needs_kube && kube.is_none() {
            return Err(Error::config(format!(
                "the endpoint {} goes through the Kubernetes API, but no Kubernetes configuration \
                 (kubeconfig or in-cluster) was found",
                config.endpoint
            )));
        }
        let base_url = match &config.endpoint {
            Endpoint::Gateway(u) | Endpoint::Direct(u) => Some(u.clone()),
            _ => None,
        };
        let cfg_for_builder = config.clone();
        let ctx = AuthContext {
            base_url,
            client_builder: Arc::new(move || {
                build_reqwest(&cfg_for_builder).unwrap_or_else(|_| reqwest::Client::builder())
            }),
            kube: kube.clone(),
        };
        let auth = Arc::new(Authenticator::new(config.credentials.clone(), ctx)?);
        let headers = config_headers(&config.headers)?;
        let forward = match (&config.endpoint, &kube) {
            (
                Endpoint::PortForward {
                    namespace,
                    service,
                    port,
                },
                Some(k),
            ) => Some(Arc::new(Forward {
                client: http.clone(),
                kube: k.clone(),
                namespace: namespace.clone(),
                service: service.clone(),
                port: *port,
                state: tokio::sync::OnceCell::new(),
            })),
            _ => None,
        };
        Ok(KubeflowClient {
            inner: Arc::new(Inner {
                config,
                http,
                auth,
                kube,
                headers,
                forward,
            }),
        })
    }
}

impl KubeflowClient {
    /// Builds a client. No network I/O.
    ///
    /// # Errors
    /// As [`KubeflowClientBuilder::build`].
    pub fn new(config: KubeflowConfig) -> Result<Self> {
        Self::builder(config).build()
    }

    /// A builder, to pass your own `reqwest::Client` or `kube::Client`.
    pub fn builder(config: KubeflowConfig) -> KubeflowClientBuilder {
        KubeflowClientBuilder {
            config,
            http: None,
            kube: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &KubeflowConfig {
        &self.inner.config
    }

    /// The user namespace, if configured.
    pub fn namespace(&self) -> Option<&str> {
        self.inner.config.namespace.as_deref()
    }

    /// An HTTP client for one Kubeflow service. `gateway_prefix` is where the service lives
    /// under the gateway (`pipeline` for KFP, `jupyter` for the notebooks web app, empty for
    /// the dashboard); it is used only with [`Endpoint::Gateway`] — a direct URL, the kube proxy
    /// and a port-forward already point at the service.
    ///
    /// # Errors
    /// [`Error::Config`] when the prefix does not make a valid URL.
    pub fn service(&self, gateway_prefix: &str) -> Result<HttpClient> {
        let inner = &self.inner;
        let transport = match &inner.config.endpoint {
            Endpoint::Gateway(url) => Transport::Http {
                client: inner.http.clone(),
                base: join_prefix(url, gateway_prefix)?,
            },
            Endpoint::Direct(url) => Transport::Http {
                client: inner.http.clone(),
                base: url.clone(),
            },
            Endpoint::KubeProxy {
                namespace,
                service,
                port,
            } => Transport::Kube {
                client: self.kube_client()?,
                base_path: format!(
                    "/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/"
                ),
            },
            Endpoint::PortForward { .. } => match &inner.forward {
                Some(f) => Transport::Forward(f.clone()),
                None => {
                    return Err(Error::config(
                        "the port-forward endpoint has no Kubernetes client",
                    ));
                }
            },
        };
        Ok(HttpClient::from_parts(
            transport,
            inner.auth.clone(),
            inner.config.retry.clone(),
            inner.config.timeouts.clone(),
            inner.headers.clone(),
            inner.config.endpoint.is_gateway(),
        ))
    }

    /// Authenticates now — logs in through Dex, reads the token file, or requests a
    /// service-account token — so that wrong credentials fail early with a clear error.
    /// Constructors never do this; the first request otherwise does it on demand.
    ///
    /// # Errors
    /// [`Error::Auth`] when the login or token fails, [`Error::Config`] for unusable settings.
    pub async fn authenticate(&self) -> Result<()> {
        if self.inner.auth.can_refresh() {
            self.inner.auth.refresh().await
        } else {
            self.inner.auth.headers().await.map(|_| ())
        }
    }

    /// The Kubernetes client, or an error saying that none is configured.
    ///
    /// # Errors
    /// [`Error::Config`] when no kubeconfig or in-cluster configuration was found or given.
    pub fn kube_client(&self) -> Result<kube::Client> {
        self.inner.kube.clone().ok_or_else(|| {
            Error::config(
                "no Kubernetes configuration was found: set KUBECONFIG, create ~/.kube/config, or run in a pod",
            )
        })
    }
}

fn join_prefix(url: &Url, prefix: &str) -> Result<Url> {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        return Ok(url.clone());
    }
    url.join(&format!("{prefix}/")).map_err(|e| Error::Config {
        message: format!("the service prefix `{prefix}` does not make a URL under {url}"),
        source: Some(Box::new(e)),
    })
}
