//! The client handle component crates build on.

use crate::KubeflowConfig;
use crate::http::HttpClient;

/// A connection to a Kubeflow installation: the HTTP layer, the credentials and, when
/// configured, a Kubernetes client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct KubeflowClient {
    config: KubeflowConfig,
}

impl KubeflowClient {
    /// Builds a client. No network I/O.
    pub fn new(config: KubeflowConfig) -> crate::Result<Self> {
        Ok(KubeflowClient { config })
    }

    /// The configuration.
    pub fn config(&self) -> &KubeflowConfig {
        &self.config
    }

    /// An HTTP client for one Kubeflow service. `gateway_prefix` is where the service lives
    /// under the gateway (`pipeline` for KFP, `jupyter` for the notebooks web app); it is used
    /// only with [`Endpoint::Gateway`](crate::Endpoint::Gateway) — a direct URL, the kube proxy
    /// and a port-forward already point at the service.
    pub fn service(&self, gateway_prefix: &str) -> crate::Result<HttpClient> {
        let _ = gateway_prefix;
        Err(crate::Error::config("the HTTP layer is not built yet"))
    }

    /// The Kubernetes client, or an error saying that none is configured.
    pub fn kube_client(&self) -> crate::Result<kube::Client> {
        Err(crate::Error::config("no Kubernetes configuration (kubeconfig or in-cluster) was found"))
    }
}
