//! `doctor`: which Kubeflow components does the cluster have, and can we reach them?
//!
//! ```text
//! cargo run -p kubeflow-examples --example doctor
//! KUBEFLOW_ENDPOINT=http://localhost:8080 cargo run -p kubeflow-examples --example doctor
//! ```
//!
//! The configuration is inferred as every SDK client infers it (`KUBEFLOW_ENDPOINT` and
//! friends, kfp's context file, in-cluster, kubeconfig); the Kubernetes part lists CRDs and
//! Kubeflow Pipelines is asked for its healthz (through the gateway, directly, or through the
//! API server's service proxy).
//! Exits with 1 when no cluster is reachable.

use std::process::ExitCode;

use kubeflow_core::discovery::{self, KubernetesReport};
use kubeflow_core::{KubeflowClient, KubeflowConfig};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();

    // Everything the SDK would use: explicit variables, kfp's context file, the in-cluster
    // identity, or the kubeconfig (see kubeflow_core::config::env).
    let client = match KubeflowConfig::infer().await.and_then(KubeflowClient::new) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("doctor: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "Endpoint: {} ({}); credentials: {}",
        client.config().endpoint,
        client.config().source,
        client.config().credentials.describe()
    );
    let kube = client.kube_client().ok();
    let kfp = match client.service("pipeline") {
        Ok(c) => Some(c),
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
