//! `notebook`: create a Jupyter notebook with a workspace volume, wait until it is ready, print
//! its URL, then stop it (its volume stays; `start` brings it back).
//!
//! ```text
//! KUBEFLOW_NAMESPACE=kubeflow-user-example-com cargo run -p kubeflow-examples --example notebook
//! cargo run -p kubeflow-examples --example notebook -- my-notebook kubeflownotebookswg/jupyter-scipy:v1.9.0
//! ```
//!
//! The configuration is inferred like every SDK client's (kubeconfig or in-cluster for the
//! Kubernetes API; `KUBEFLOW_ENDPOINT` for the gateway URL). With a gateway endpoint the URL
//! printed is `{gateway}/notebook/{namespace}/{name}/`; otherwise the example connects through
//! a port-forward to the notebook's pod and prints the local URL.
//! `NOTEBOOK_WAIT_SECS` bounds the wait (default 600). Set `NOTEBOOK_KEEP=1` to leave it running.

use std::time::Duration;

use anyhow::Context;
use kubeflow_core::{KubeflowClient, KubeflowConfig};
use kubeflow_notebooks::{NotebookBuilder, NotebookVolume, NotebooksClient};

const DEFAULT_IMAGE: &str = "kubeflownotebookswg/jupyter-scipy:v1.9.0";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "rust-notebook".to_owned());
    let image = args.next().unwrap_or_else(|| DEFAULT_IMAGE.to_owned());
    let wait_secs: u64 = match std::env::var("NOTEBOOK_WAIT_SECS") {
        Ok(v) => v
            .parse()
            .with_context(|| format!("NOTEBOOK_WAIT_SECS=`{v}` is not a number of seconds"))?,
        Err(_) => 600,
    };

    let kf = KubeflowClient::new(KubeflowConfig::infer().await?)?;
    let notebooks = NotebooksClient::new(&kf)?;
    println!(
        "creating notebook {}/{name} ({image})",
        notebooks.namespace()
    );
    let created = notebooks
        .create(
            NotebookBuilder::new(&name, image)
                .cpu("500m")
                .cpu_limit("1")
                .memory("1Gi")
                .memory_limit("2Gi")
                .workspace(NotebookVolume::new_pvc("5Gi")),
        )
        .await;
    match created {
        Ok(_) => {}
        // Run again: use the notebook that is there, starting it if it was stopped.
        Err(e) if e.is_conflict() => {
            println!("it exists already: starting it");
            notebooks.start(&name).await?;
        }
        Err(e) => return Err(e.into()),
    }

    notebooks
        .wait_ready(&name)
        .timeout(Duration::from_secs(wait_secs))
        .on_progress(|phase| println!("  {phase}"))
        .await?;
    println!("ready");

    match notebooks.url(&name) {
        Ok(url) => println!("open {url}"),
        Err(_) => {
            // No gateway configured: reach the server directly.
            let conn = notebooks.connect(&name).await?;
            println!(
                "open {} (port-forward to pod {}; the server answered HTTP {})",
                conn.url(),
                conn.pod(),
                conn.status().unwrap_or_default()
            );
        }
    }

    if std::env::var_os("NOTEBOOK_KEEP").is_some() {
        return Ok(());
    }
    println!("stopping");
    notebooks.stop(&name).await?;
    notebooks
        .wait_stopped(&name)
        .timeout(Duration::from_secs(wait_secs))
        .on_progress(|phase| println!("  {phase}"))
        .await?;
    println!("stopped (start it again with NotebooksClient::start; its volume is kept)");
    Ok(())
}
