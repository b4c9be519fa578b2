//! `submit_pipeline`: upload a compiled pipeline, run it with parameters, wait with progress, then
//! list the failed runs of the experiment.
//!
//! ```text
//! KUBEFLOW_ENDPOINT=http://localhost:8080 KUBEFLOW_USERNAME=user@example.com KUBEFLOW_PASSWORD=12341234 \
//!     cargo run -p kubeflow-examples --example submit_pipeline -- pipeline.yaml lr=0.01 epochs=3
//! ```
//!
//! The connection comes from `KubeflowConfig::infer()` (gateway, direct URL, kube proxy;
//! token, token file, Dex login or cookie). Parameters are `name=value`; values that parse as
//! JSON (numbers, booleans, lists) are sent as such, anything else as a string.

use std::time::Duration;

use anyhow::Context;
use futures::TryStreamExt;
use kubeflow_pipelines::{
    Filter, KubeflowConfig, PipelinePackage, PipelineSpec, PipelinesClient, RuntimeState,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .context("usage: submit_pipeline PIPELINE.yaml [name=value ...]")?;
    let params: Vec<(String, serde_json::Value)> = args
        .map(|a| {
            let (k, v) = a
                .split_once('=')
                .with_context(|| format!("parameter {a:?} is not name=value"))?;
            let value = serde_json::from_str(v).unwrap_or_else(|_| v.into());
            Ok((k.to_owned(), value))
        })
        .collect::<anyhow::Result<_>>()?;

    let kfp = PipelinesClient::from_config(KubeflowConfig::infer().await?)?;
    let health = kfp.healthz().await.context("is KFP reachable?")?;
    println!(
        "KFP {} (multi-user: {})",
        health.tag_name.as_deref().unwrap_or("?"),
        health.multi_user
    );

    // Upload under a unique name: the pipeline name must be new.
    let spec = PipelineSpec::from_file(&path)?;
    let base = spec.name().unwrap_or("pipeline").to_owned();
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let pipeline = kfp
        .pipelines()
        .upload(PipelinePackage::spec(spec))
        .display_name(format!("{base} {stamp}"))
        .send()
        .await?;
    let pipeline_id = pipeline
        .pipeline_id
        .context("the server sent no pipeline_id")?;
    println!("uploaded pipeline {pipeline_id}");

    let experiment = match kfp
        .experiments()
        .get_by_name("kubeflow-rs examples")
        .await?
    {
        Some(e) => e,
        None => {
            kfp.experiments()
                .create("kubeflow-rs examples")
                .send()
                .await?
        }
    };
    let run = kfp
        .runs()
        .create(format!("{base} {stamp}"))
        .latest_version_of(&pipeline_id)
        .params(params)
        .experiment(experiment.id()?)
        .send()
        .await?;
    let run_id = run.run_id.context("the server sent no run_id")?;
    println!("started run {run_id}");

    let started = std::time::Instant::now();
    let done = kfp
        .runs()
        .wait(&run_id)
        .timeout(Duration::from_secs(2 * 3600))
        .on_progress(move |state| println!("[{:>6.1?}] {state}", started.elapsed()))
        .await?;
    println!("run {run_id} finished: {}", done.state());
    if let Some(err) = &done.error {
        println!("  error: {}", err.message.as_deref().unwrap_or(""));
    }
    for task in done.run_details.iter().flat_map(|d| &d.task_details) {
        println!(
            "  task {:<30} {}",
            task.display_name.as_deref().unwrap_or("?"),
            task.state.clone().unwrap_or_default()
        );
    }

    let mut failed = kfp
        .runs()
        .list()
        .experiment(experiment.id()?)
        .filter(Filter::eq("state", RuntimeState::Failed))
        .sort_by("created_at desc")
        .page_size(100)
        .stream();
    let mut n = 0;
    while let Some(r) = failed.try_next().await? {
        n += 1;
        println!(
            "failed: {} {}",
            r.run_id.as_deref().unwrap_or("?"),
            r.display_name.as_deref().unwrap_or("")
        );
    }
    println!("{n} failed run(s) in the experiment");
    Ok(())
}
