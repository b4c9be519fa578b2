//! Times the local runner on a compiled pipeline, for the side-by-side comparison with
//! `kfp.local` in `testenv/bench/local-runner-compare.sh` (run by hand, not in CI).
//!
//! ```text
//! cargo run --release -p kubeflow-examples --example local_bench -- PIPELINE.yaml [name=value ...]
//! ```
//!
//! Prints one JSON line: `{"tasks": <executor tasks run>, "seconds": <wall clock of the run>}`.
//! `KF_BENCH_PARALLELISM` sets the runner's parallelism (default: the number of cores);
//! `KUBEFLOW_LOCAL_PYTHON` the Python for lightweight components.

use std::time::Instant;

use anyhow::Context;
use kubeflow_pipelines::local::{LocalRunner, TaskKind};
use kubeflow_pipelines::spec::CompiledPipeline;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .context("usage: local_bench PIPELINE.yaml [name=value ...]")?;
    let package = CompiledPipeline::read(&path)?;
    let root = tempfile::tempdir()?;
    let mut runner = LocalRunner::new().pipeline_root(root.path());
    if let Ok(n) = std::env::var("KF_BENCH_PARALLELISM") {
        runner = runner.parallelism(n.parse().context("KF_BENCH_PARALLELISM")?);
    }
    let mut run = runner.run(&package);
    for arg in args {
        let (name, value) = arg
            .split_once('=')
            .with_context(|| format!("argument `{arg}` is not name=value"))?;
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        run = run.arg(name, value);
    }
    let clock = Instant::now();
    let record = run.await?;
    let seconds = clock.elapsed().as_secs_f64();
    let tasks = record
        .tasks
        .iter()
        .filter(|t| matches!(t.kind, TaskKind::Container | TaskKind::Python))
        .count();
    println!(
        "{}",
        serde_json::json!({ "tasks": tasks, "seconds": seconds })
    );
    Ok(())
}
