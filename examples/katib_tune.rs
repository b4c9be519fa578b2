//! `katib_tune`: hyperparameter tuning with Katib from Rust — define a search over a training
//! command, create the Experiment, follow its progress, print the best hyperparameters.
//!
//! ```text
//! cargo run -p kubeflow-examples --example katib_tune               # on the current cluster
//! cargo run -p kubeflow-examples --example katib_tune -- --dry-run  # print the Experiment only
//! KATIB_NAMESPACE=kubeflow-user-example-com cargo run -p kubeflow-examples --example katib_tune
//! ```
//!
//! The cluster is found as every SDK client finds it (kubeconfig, in-cluster, `KUBEFLOW_*`
//! variables). The namespace is `KATIB_NAMESPACE`, else the configured Kubeflow namespace, else
//! the kubeconfig's. Each trial prints `result=<value>`, which Katib's default StdOut collector
//! reads. Exits with 1 on any error, with the reason (a webhook's message is shown verbatim).

use std::process::ExitCode;
use std::time::Duration;

use kubeflow_core::{KubeflowClient, KubeflowConfig};
use kubeflow_katib::{KatibClient, ObjectiveType, Tune, search};

const NAME: &str = "rust-tune-example";

fn experiment_request() -> Tune {
    // The objective of the Python SDK's tune() example: maximise 4a - b².
    Tune::new(NAME, "docker.io/library/python:3.12-slim")
        .command([
            "python3",
            "-c",
            "import time; a=${trialParameters.a}; b=${trialParameters.b}; opt='${trialParameters.optimizer}'; \
             time.sleep(5); print(f'result={4 * a - b ** 2 + (0.5 if opt == \"adam\" else 0)}')",
        ])
        .parameter("a", search::int(10, 20))
        .parameter("b", search::double(0.1, 0.2))
        .parameter("optimizer", search::categorical(["sgd", "adam"]))
        .objective(ObjectiveType::Maximize, "result")
        .algorithm("random")
        .max_trial_count(6)
        .parallel_trial_count(2)
        .max_failed_trial_count(2)
        .resource("cpu", "500m")
        .resource("memory", "256Mi")
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("katib_tune: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let dry_run = std::env::args().any(|a| a == "--dry-run");
    if dry_run {
        let exp = experiment_request().build()?;
        println!("{}", serde_json::to_string_pretty(&exp)?);
        return Ok(());
    }

    let kubeflow = KubeflowClient::new(KubeflowConfig::infer().await?)?;
    let mut katib = KatibClient::from_kubeflow(&kubeflow)?;
    if let Ok(ns) = std::env::var("KATIB_NAMESPACE") {
        katib = katib.in_namespace(ns);
    }

    // Katib injects its metrics collector only in namespaces with the right label.
    match katib.check_namespace(None).await {
        Ok(check) if !check.is_ready() => eprintln!("warning: {check}"),
        Ok(_) => {}
        Err(e) => eprintln!(
            "warning: could not read namespace {}: {e}",
            katib.namespace()
        ),
    }

    let created = katib.tune(experiment_request()).await?;
    println!(
        "created Experiment {}/{}",
        katib.namespace(),
        created.metadata.name.as_deref().unwrap_or(NAME)
    );

    let done = katib
        .wait(NAME)
        .timeout(Duration::from_secs(30 * 60))
        .on_progress(|p| println!("  {p}"))
        .await?;

    match done.optimal_trial() {
        Some(best) => {
            println!(
                "best trial: {}",
                best.best_trial_name.as_deref().unwrap_or("?")
            );
            for (name, value) in best.parameters() {
                println!("  {name} = {value}");
            }
            if let Some(m) = best.metric("result") {
                println!("  result = {}", m.max.as_deref().unwrap_or("?"));
            }
        }
        None => println!("the experiment finished without an optimal trial"),
    }
    for t in katib.trials(NAME).await? {
        println!(
            "trial {} {:?} {:?}",
            t.name,
            t.state.map(|s| s.to_string()),
            t.parameters
        );
    }
    Ok(())
}
