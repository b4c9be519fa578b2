//! Runs a compiled pipeline (YAML or JSON, as the official compiler or the Rust DSL wrote it) on
//! this machine with the local runner, printing progress, then the run's tasks and outputs.
//!
//! ```text
//! cargo run -p kubeflow-examples --example local_run -- PIPELINE.yaml [name=value ...]
//! ```
//!
//! Values are JSON when they parse as JSON (`n=3`, `flag=true`, `items=[1,2]`), strings
//! otherwise. Environment: `KUBEFLOW_LOCAL_PYTHON` (a Python with `kfp`, for lightweight Python
//! components), `KF_LOCAL_ROOT` (the pipeline root, default `./local_outputs`),
//! `KF_LOCAL_CACHE=1` (enable caching), `KF_LOCAL_LOGS=1` (stream task output).

use anyhow::Context;
use kubeflow_pipelines::local::LocalRunner;
use kubeflow_pipelines::spec::CompiledPipeline;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .context("usage: local_run PIPELINE.yaml [name=value ...]")?;
    let package = CompiledPipeline::read(&path)?;
    let mut runner = LocalRunner::new()
        .caching(std::env::var("KF_LOCAL_CACHE").is_ok_and(|v| v == "1"))
        .stream_logs(std::env::var("KF_LOCAL_LOGS").is_ok_and(|v| v == "1"));
    if let Ok(root) = std::env::var("KF_LOCAL_ROOT") {
        runner = runner.pipeline_root(root);
    }
    let mut run = runner
        .run(&package)
        .on_event(|event| eprintln!("{event}"))
        .cancel_on_ctrl_c();
    for arg in args {
        let (name, value) = arg
            .split_once('=')
            .with_context(|| format!("argument `{arg}` is not name=value"))?;
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        run = run.arg(name, value);
    }
    let record = run.await?;
    println!(
        "run {} {} in {}",
        record.run_id,
        record.state,
        record.dir.display()
    );
    for task in &record.tasks {
        println!(
            "  {:<40} {:<10} {:>8.2}s",
            task.path,
            task.state.to_string(),
            task.duration().unwrap_or_default().as_secs_f64()
        );
    }
    println!(
        "outputs: {}",
        serde_json::to_string_pretty(&record.outputs)?
    );
    Ok(())
}
