//! `KubeflowConfig::infer()`: explicit settings > environment > in-cluster > kubeconfig.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{Endpoint, KubeflowConfig, env, parse_url};
use crate::auth::{Credentials, DexLogin};
use crate::{Error, Result};

/// What one configuration source said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAttempt {
    /// The source ("environment", "in-cluster", "kubeconfig", …).
    pub source: String,
    /// Why it did not give a configuration.
    pub message: String,
}

/// No source gave a configuration; each source says why.
#[derive(Debug, Clone, thiserror::Error)]
pub struct InferConfigError {
    /// Every source tried, in order.
    pub attempts: Vec<SourceAttempt>,
}

impl fmt::Display for InferConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not find a Kubeflow installation to talk to; tried:"
        )?;
        for a in &self.attempts {
            write!(f, "\n  - {}: {}", a.source, a.message)?;
        }
        write!(
            f,
            "\nSet KUBEFLOW_ENDPOINT (e.g. http://localhost:8080 for the kfui port-forward), run inside the cluster, or configure a kubeconfig."
        )
    }
}

/// The default directory of the in-cluster service-account files.
pub const IN_CLUSTER_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Reads a [`KubeflowConfig`] from explicit settings, the environment, the kfp context file,
/// the in-cluster service account and the kubeconfig — in that order of precedence.
///
/// ```no_run
/// # async fn f() -> kubeflow_core::Result<()> {
/// use kubeflow_core::config::ConfigLoader;
/// let config = ConfigLoader::new().namespace("team-a").load().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConfigLoader {
    endpoint: Option<Endpoint>,
    credentials: Option<Credentials>,
    namespace: Option<String>,
    env: EnvLookup,
    home: Option<PathBuf>,
    in_cluster_dir: PathBuf,
    kfp_namespace: String,
    load_kube: bool,
}

impl fmt::Debug for ConfigLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigLoader")
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("namespace", &self.namespace)
            .field("home", &self.home)
            .field("in_cluster_dir", &self.in_cluster_dir)
            .field("kfp_namespace", &self.kfp_namespace)
            .finish()
    }
}

impl Default for ConfigLoader {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigLoader {
    /// A loader reading the process environment and the user's home directory.
    pub fn new() -> Self {
        ConfigLoader {
            endpoint: None,
            credentials: None,
            namespace: None,
            env: Arc::new(|k| std::env::var(k).ok()),
            home: std::env::var_os("HOME").map(PathBuf::from),
            in_cluster_dir: PathBuf::from(IN_CLUSTER_DIR),
            kfp_namespace: "kubeflow".to_owned(),
            load_kube: true,
        }
    }

    /// An explicit endpoint (wins over every other source).
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Explicit credentials (win over every other source).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// An explicit user namespace (wins over every other source).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The namespace KFP is installed in (default `kubeflow`), used for the in-cluster and
    /// kube-proxy endpoints.
    pub fn kfp_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.kfp_namespace = namespace.into();
        self
    }

    /// Reads variables through `lookup` instead of the process environment.
    pub fn env_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Arc::new(lookup);
        self
    }

    /// Uses `home` as the home directory (for `~/.kube/config` and `~/.config/kfp/context.json`).
    pub fn home_dir(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// Uses `dir` instead of `/var/run/secrets/kubernetes.io/serviceaccount`.
    pub fn in_cluster_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.in_cluster_dir = dir.into();
        self
    }

    /// Whether to build a Kubernetes client configuration too (default true).
    pub fn load_kube(mut self, yes: bool) -> Self {
        self.load_kube = yes;
        self
    }

    fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.trim().is_empty())
    }

    /// Reads the configuration. Reads files; does no network I/O.
    ///
    /// # Errors
    /// [`Error::InferConfig`] when no source names an endpoint (each source says why), and
    /// [`Error::Config`] when a variable or file is present but malformed (naming it).
    pub async fn load(self) -> Result<KubeflowConfig> {
        let mut attempts = Vec::new();
        let context = self.read_kfp_context()?;

        // The Kubernetes side: in-cluster first, then the kubeconfig.
        let in_cluster = self.in_cluster();
        let kubeconfig_path = self.kubeconfig_path();
        let mut kube: Option<(kube::Config, &'static str, Option<String>)> = None;
        match &in_cluster {
            Ok(ns) => {
                if self.load_kube {
                    match kube::Config::incluster() {
                        Ok(c) => kube = Some((c, "in-cluster", ns.clone())),
                        Err(e) => attempts.push(attempt(
                            "in-cluster",
                            format!("service account found but unusable: {e}"),
                        )),
                    }
                }
            }
            Err(why) => attempts.push(attempt("in-cluster", why.clone())),
        }
        let mut kubeconfig_ns = None;
        if kube.is_none() {
            match &kubeconfig_path {
                Ok(path) if self.load_kube => match load_kubeconfig(path).await {
                    Ok((c, ns)) => {
                        kubeconfig_ns = ns.clone();
                        kube = Some((c, "kubeconfig", ns));
                    }
                    Err(why) => {
                        attempts.push(attempt(&format!("kubeconfig {}", path.display()), why))
                    }
                },
                Ok(_) => {}
                Err(why) => attempts.push(attempt("kubeconfig", why.clone())),
            }
        }

        // The endpoint.
        let (endpoint, source) = if let Some(e) = self.endpoint.clone() {
            (e, "explicit".to_owned())
        } else if let Some(v) = self.var(env::ENDPOINT) {
            let e = Endpoint::parse(&v)
                .map_err(|e| Error::config(format!("{}: {e}", env::ENDPOINT)))?;
            (e, format!("environment ({})", env::ENDPOINT))
        } else if let Some(v) = self.var(env::KFP_ENDPOINT) {
            let url = if v.contains("://") {
                v
            } else {
                format!("http://{v}")
            };
            let e = Endpoint::Direct(parse_url(env::KFP_ENDPOINT, &url)?);
            (e, format!("environment ({})", env::KFP_ENDPOINT))
        } else {
            attempts.insert(
                0,
                attempt(
                    "environment",
                    format!("neither {} nor {} is set", env::ENDPOINT, env::KFP_ENDPOINT),
                ),
            );
            match &kube {
                _ if in_cluster.is_ok() => (
                    Endpoint::kfp_in_cluster(&self.kfp_namespace)?,
                    "in-cluster (KFP service DNS)".to_owned(),
                ),
                Some(_) => (
                    Endpoint::kfp_kube_proxy(&self.kfp_namespace),
                    "kubeconfig (API server service proxy)".to_owned(),
                ),
                None => return Err(InferConfigError { attempts }.into()),
            }
        };

        // Credentials.
        let credentials = match self.credentials.clone() {
            Some(c) => c,
            None => self.env_credentials(&context, &endpoint)?,
        };

        // Namespace.
        let namespace = self
            .namespace
            .clone()
            .or_else(|| self.var(env::NAMESPACE))
            .or_else(|| context.as_ref().and_then(|c| c.namespace.clone()))
            .or_else(|| in_cluster.as_ref().ok().cloned().flatten())
            .or(kubeconfig_ns);

        let mut config = KubeflowConfig::new(endpoint);
        config.credentials = credentials;
        config.namespace = namespace;
        config.kube = kube.map(|(c, _, _)| c);
        config.source = source;
        self.apply_tuning(&mut config)?;
        if let Some(ctx) = &context
            && let (Some(name), Some(value)) = (&ctx.header_name, &ctx.header_value)
        {
            config.headers.insert(name.clone(), value.clone());
        }
        tracing::debug!(endpoint = %config.endpoint, source = %config.source, credentials = %config.credentials.describe(), "inferred Kubeflow configuration");
        Ok(config)
    }

    fn env_credentials(
        &self,
        context: &Option<KfpContext>,
        endpoint: &Endpoint,
    ) -> Result<Credentials> {
        if let Some(t) = self.var(env::TOKEN) {
            return Ok(Credentials::bearer(t.trim()));
        }
        if let Some(p) = self.var(env::TOKEN_FILE) {
            return Ok(Credentials::TokenFile(PathBuf::from(p)));
        }
        match (self.var(env::USERNAME), self.var(env::PASSWORD)) {
            (Some(u), Some(p)) => {
                let mut login = DexLogin::new(u, p);
                if let Some(c) = self.var(env::DEX_CONNECTOR) {
                    login = login.connector(c);
                }
                return Ok(Credentials::Dex(login));
            }
            (Some(_), None) => {
                return Err(Error::config(format!(
                    "{} is set but {} is not",
                    env::USERNAME,
                    env::PASSWORD
                )));
            }
            (None, Some(_)) => {
                return Err(Error::config(format!(
                    "{} is set but {} is not",
                    env::PASSWORD,
                    env::USERNAME
                )));
            }
            (None, None) => {}
        }
        if let Some(c) = self.var(env::COOKIE) {
            return Ok(Credentials::cookie(c));
        }
        if let Some(c) = context.as_ref().and_then(|c| c.cookie.clone()) {
            return Ok(Credentials::cookie(c));
        }
        if let Some(p) = self.var(env::KFP_SA_TOKEN_PATH) {
            return Ok(Credentials::TokenFile(PathBuf::from(p)));
        }
        if Path::new(env::KFP_SA_TOKEN_DEFAULT).is_file() {
            return Ok(Credentials::TokenFile(PathBuf::from(
                env::KFP_SA_TOKEN_DEFAULT,
            )));
        }
        if matches!(endpoint, Endpoint::KubeProxy { .. }) {
            return Ok(Credentials::Kube);
        }
        Ok(Credentials::None)
    }

    fn apply_tuning(&self, config: &mut KubeflowConfig) -> Result<()> {
        if let Some(p) = self.var(env::CA_BUNDLE) {
            config.tls.ca_bundle = Some(PathBuf::from(p));
        }
        if let Some(v) = self.var(env::INSECURE_SKIP_TLS_VERIFY) {
            config.tls.insecure_skip_tls_verify = parse_bool(env::INSECURE_SKIP_TLS_VERIFY, &v)?;
        }
        if let Some(v) = self.var(env::PROXY) {
            config.proxy = Some(parse_url(env::PROXY, &v)?);
        }
        if let Some(v) = self.var(env::TIMEOUT) {
            config.timeouts.operation = parse_secs(env::TIMEOUT, &v)?;
        }
        if let Some(v) = self.var(env::CONNECT_TIMEOUT) {
            config.timeouts.connect = parse_secs(env::CONNECT_TIMEOUT, &v)?;
        }
        if let Some(v) = self.var(env::ATTEMPT_TIMEOUT) {
            config.timeouts.attempt = parse_secs(env::ATTEMPT_TIMEOUT, &v)?;
        }
        if let Some(v) = self.var(env::MAX_ATTEMPTS) {
            let n: u32 = v.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Error::config(format!(
                    "{}=`{v}` must be a whole number of at least 1",
                    env::MAX_ATTEMPTS
                ))
            })?;
            config.retry.max_attempts = n;
        }
        if let Some(v) = self.var(env::HEADERS) {
            config.headers.extend(parse_headers(&v)?);
        }
        Ok(())
    }

    fn kfp_context_path(&self) -> Option<PathBuf> {
        self.var(env::KFP_CONTEXT).map(PathBuf::from).or_else(|| {
            self.home
                .as_ref()
                .map(|h| h.join(".config/kfp/context.json"))
        })
    }

    fn read_kfp_context(&self) -> Result<Option<KfpContext>> {
        let Some(path) = self.kfp_context_path() else {
            return Ok(None);
        };
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    action: "reading the kfp context file",
                    path,
                    source,
                });
            }
        };
        let de = &mut serde_json::Deserializer::from_slice(&text);
        let ctx: KfpContext = serde_path_to_error::deserialize(de).map_err(|e| {
            Error::config(format!(
                "the kfp context file {} is not valid at `{}`: {}",
                path.display(),
                e.path(),
                e.inner()
            ))
        })?;
        Ok(Some(ctx.normalise()))
    }

    /// `Ok(namespace)` when running in a cluster, else why not.
    fn in_cluster(&self) -> std::result::Result<Option<String>, String> {
        if self.var("KUBERNETES_SERVICE_HOST").is_none() {
            return Err("KUBERNETES_SERVICE_HOST is not set (not running in a pod)".to_owned());
        }
        let token = self.in_cluster_dir.join("token");
        if !token.is_file() {
            return Err(format!("no service-account token at {}", token.display()));
        }
        let ns = std::fs::read_to_string(self.in_cluster_dir.join("namespace"))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Ok(ns)
    }

    fn kubeconfig_path(&self) -> std::result::Result<PathBuf, String> {
        if let Some(v) = self.var("KUBECONFIG") {
            // kube merges several files; we name the first that exists.
            let sep = if cfg!(windows) { ';' } else { ':' };
            for p in v.split(sep).filter(|p| !p.is_empty()) {
                let p = PathBuf::from(p);
                if p.is_file() {
                    return Ok(p);
                }
            }
            return Err(format!("KUBECONFIG=`{v}` names no existing file"));
        }
        match &self.home {
            Some(h) => {
                let p = h.join(".kube/config");
                if p.is_file() {
                    Ok(p)
                } else {
                    Err(format!(
                        "KUBECONFIG is not set and {} does not exist",
                        p.display()
                    ))
                }
            }
            None => Err("KUBECONFIG is not set and there is no home directory".to_owned()),
        }
    }
}

async fn load_kubeconfig(
    path: &Path,
) -> std::result::Result<(kube::Config, Option<String>), String> {
    let kc = kube::config::Kubeconfig::read_from(path).map_err(|e| format!("unreadable: {e}"))?;
    let ns = kc
        .current_context
        .as_ref()
        .and_then(|cur| kc.contexts.iter().find(|c| &c.name == cur))
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone());
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| format!("unusable: {e}"))?;
    Ok((config, ns))
}

fn attempt(source: &str, message: impl Into<String>) -> SourceAttempt {
    SourceAttempt {
        source: source.to_owned(),
        message: message.into(),
    }
}

/// `~/.config/kfp/context.json`, as the Python SDK writes it.
#[derive(Debug, Default, Deserialize)]
struct KfpContext {
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    client_authentication_cookie: Option<String>,
    #[serde(default)]
    client_authentication_header_name: Option<String>,
    #[serde(default)]
    client_authentication_header_value: Option<String>,
    #[serde(skip)]
    cookie: Option<String>,
    #[serde(skip)]
    header_name: Option<String>,
    #[serde(skip)]
    header_value: Option<String>,
}

impl KfpContext {
    fn normalise(mut self) -> Self {
        let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        self.namespace = keep(self.namespace.take());
        self.cookie = keep(self.client_authentication_cookie.take());
        self.header_name = keep(self.client_authentication_header_name.take());
        self.header_value = keep(self.client_authentication_header_value.take());
        self
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::config(format!("{name}=`{v}` must be true or false"))),
    }
}

fn parse_secs(name: &str, v: &str) -> Result<Duration> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| Error::config(format!("{name}=`{v}` must be a positive number of seconds")))
}

/// `Name: value` pairs separated by newlines or `;;`.
pub(crate) fn parse_headers(v: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (i, item) in v.split(['\n']).flat_map(|l| l.split(";;")).enumerate() {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, value) = item.split_once(':').ok_or_else(|| {
            Error::config(format!(
                "{}: entry {} has no `:` (expected `Name: value`)",
                env::HEADERS,
                i + 1
            ))
        })?;
        let name = name.trim();
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(Error::config(format!(
                "{}: entry {}: `{name}` is not a valid header name",
                env::HEADERS,
                i + 1
            )));
        }
        out.insert(name.to_owned(), value.trim().to_owned());
    }
    Ok(out)
}
