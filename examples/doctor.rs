//! `doctor`: which Kubeflow components does the cluster have, and can we reach them?
//!
//! ```text
//! cargo run -p kubeflow-examples --example doctor
//! KUBEFLOW_ENDPOINT=http://localhost:8080 cargo run -p kubeflow-examples --example doctor
//! ```
//!
//! The Kubernetes part uses the kubeconfig (or the in-cluster identity). When
//! `KUBEFLOW_ENDPOINT` is set, Kubeflow Pipelines is asked for its healthz too.
//! Exits with 1 when no cluster is reachable.

use std::process::ExitCode;

use kubeflow_core::discovery::{self, KubernetesReport};
use kubeflow_core::http::HttpClient;

/// The KFP client, when `KUBEFLOW_ENDPOINT` is set.
fn pipelines_client() -> Result<Option<HttpClient>, String> {
    let Ok(endpoint) = std::env::var("KUBEFLOW_ENDPOINT") else {
        return Ok(None);
    };
    // ---- KFP client spot -------------------------------------------------------------------
    // Built from KUBEFLOW_ENDPOINT alone. Once `KubeflowConfig::infer()` is available, use it
    // instead so that credentials (KUBEFLOW_TOKEN, Dex login, cookies) are picked up too:
    //     let config = kubeflow_core::KubeflowConfig::infer().await?;
    let endpoint =
        kubeflow_core::Endpoint::parse(&endpoint).map_err(|e| format!("KUBEFLOW_ENDPOINT: {e}"))?;
    let config = kubeflow_core::KubeflowConfig::new(endpoint);
    let client = kubeflow_core::KubeflowClient::new(config).map_err(|e| e.to_string())?;
    let http = client.service("pipeline").map_err(|e| e.to_string())?;
    // ----------------------------------------------------------------------------------------
    Ok(Some(http))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();

    let kube = match kube::Client::try_default().await {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("doctor: no Kubernetes configuration: {e}");
            None
        }
    };
    let kfp = match pipelines_client() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("doctor: cannot set up the Kubeflow Pipelines client: {e}");
            None
        }
    };

    let found = discovery::discover(kube.as_ref(), kfp.as_ref()).await;
    print!("{found}");

    match &found.kubernetes {
        KubernetesReport::Reachable { .. } => {}
        KubernetesReport::Unreachable(e) => {
            eprintln!(
                "doctor: the Kubernetes API server did not answer ({e}).\n\
                 Check `kubectl cluster-info`, the current context (`kubectl config current-context`) \
                 and that the cluster is running."
            );
            return ExitCode::FAILURE;
        }
        KubernetesReport::NotChecked => {
            eprintln!(
                "doctor: no cluster to check. Point KUBECONFIG at a kubeconfig (or ~/.kube/config), \
                 or run inside a pod with a service account."
            );
            return ExitCode::FAILURE;
        }
        _ => return ExitCode::FAILURE,
    }
    let missing = found.missing();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|c| c.name()).collect();
        println!("Not (fully) available: {}", names.join(", "));
    }
    ExitCode::SUCCESS
}
