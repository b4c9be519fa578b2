//! Environment variables read by [`KubeflowConfig::infer`](super::KubeflowConfig::infer).
//!
//! | variable | meaning |
//! |---|---|
//! | `KUBEFLOW_ENDPOINT` | where Kubeflow is: see [`Endpoint::parse`](super::Endpoint::parse) |
//! | `KF_PIPELINES_ENDPOINT` | same, the Python SDK's name (KFP only; a direct URL) |
//! | `KUBEFLOW_NAMESPACE` | the user namespace (profile) |
//! | `KUBEFLOW_TOKEN` | a static bearer token |
//! | `KUBEFLOW_TOKEN_FILE` | a file holding a bearer token, re-read when it changes |
//! | `KF_PIPELINES_SA_TOKEN_PATH` | the KFP service-account token file (default `/var/run/secrets/kubeflow/pipelines/token`, used when present) |
//! | `KUBEFLOW_USERNAME`, `KUBEFLOW_PASSWORD` | a Dex static-password login through the gateway |
//! | `KUBEFLOW_DEX_CONNECTOR` | the Dex connector to log in with when there are several (default `local`) |
//! | `KUBEFLOW_COOKIE` | a raw `Cookie` header value (e.g. `oauth2_proxy_kubeflow=…`) |
//! | `KUBEFLOW_CA_BUNDLE` | a PEM file of extra CA certificates for the endpoint |
//! | `KUBEFLOW_INSECURE_SKIP_TLS_VERIFY` | `true` to accept any certificate (logged as a warning) |
//! | `KUBEFLOW_PROXY` | an HTTP(S) proxy URL for the endpoint |
//! | `KUBEFLOW_TIMEOUT`, `KUBEFLOW_CONNECT_TIMEOUT`, `KUBEFLOW_ATTEMPT_TIMEOUT` | timeouts in seconds (operation, connect, attempt) |
//! | `KUBEFLOW_MAX_ATTEMPTS` | attempts per idempotent request (1 disables retries) |
//! | `KUBEFLOW_HEADERS` | extra headers, `Name: value` separated by newlines or `;;` |
//! | `KUBEFLOW_KFP_CONTEXT` | the kfp context file (default `~/.config/kfp/context.json`) |
//! | `KUBECONFIG`, `KUBERNETES_SERVICE_HOST` | read by kube for the Kubernetes API |

/// `KUBEFLOW_ENDPOINT`.
pub const ENDPOINT: &str = "KUBEFLOW_ENDPOINT";
/// `KF_PIPELINES_ENDPOINT` (the Python SDK's variable).
pub const KFP_ENDPOINT: &str = "KF_PIPELINES_ENDPOINT";
/// `KUBEFLOW_NAMESPACE`.
pub const NAMESPACE: &str = "KUBEFLOW_NAMESPACE";
/// `KUBEFLOW_TOKEN`.
pub const TOKEN: &str = "KUBEFLOW_TOKEN";
/// `KUBEFLOW_TOKEN_FILE`.
pub const TOKEN_FILE: &str = "KUBEFLOW_TOKEN_FILE";
/// `KF_PIPELINES_SA_TOKEN_PATH`.
pub const KFP_SA_TOKEN_PATH: &str = "KF_PIPELINES_SA_TOKEN_PATH";
/// The default KFP service-account token path.
pub const KFP_SA_TOKEN_DEFAULT: &str = "/var/run/secrets/kubeflow/pipelines/token";
/// `KUBEFLOW_USERNAME`.
pub const USERNAME: &str = "KUBEFLOW_USERNAME";
/// `KUBEFLOW_PASSWORD`.
pub const PASSWORD: &str = "KUBEFLOW_PASSWORD";
/// `KUBEFLOW_DEX_CONNECTOR`.
pub const DEX_CONNECTOR: &str = "KUBEFLOW_DEX_CONNECTOR";
/// `KUBEFLOW_COOKIE`.
pub const COOKIE: &str = "KUBEFLOW_COOKIE";
/// `KUBEFLOW_CA_BUNDLE`.
pub const CA_BUNDLE: &str = "KUBEFLOW_CA_BUNDLE";
/// `KUBEFLOW_INSECURE_SKIP_TLS_VERIFY`.
pub const INSECURE_SKIP_TLS_VERIFY: &str = "KUBEFLOW_INSECURE_SKIP_TLS_VERIFY";
/// `KUBEFLOW_PROXY`.
pub const PROXY: &str = "KUBEFLOW_PROXY";
/// `KUBEFLOW_TIMEOUT` (seconds, whole operation).
pub const TIMEOUT: &str = "KUBEFLOW_TIMEOUT";
/// `KUBEFLOW_CONNECT_TIMEOUT` (seconds).
pub const CONNECT_TIMEOUT: &str = "KUBEFLOW_CONNECT_TIMEOUT";
/// `KUBEFLOW_ATTEMPT_TIMEOUT` (seconds).
pub const ATTEMPT_TIMEOUT: &str = "KUBEFLOW_ATTEMPT_TIMEOUT";
/// `KUBEFLOW_MAX_ATTEMPTS`.
pub const MAX_ATTEMPTS: &str = "KUBEFLOW_MAX_ATTEMPTS";
/// `KUBEFLOW_HEADERS`.
pub const HEADERS: &str = "KUBEFLOW_HEADERS";
/// `KUBEFLOW_KFP_CONTEXT`.
pub const KFP_CONTEXT: &str = "KUBEFLOW_KFP_CONTEXT";
