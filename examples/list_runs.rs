//! `list_runs`: find runs with a filter and stream every page.
//!
//! ```text
//! KUBEFLOW_ENDPOINT=http://localhost:8080 cargo run -p kubeflow-examples --example list_runs -- FAILED train
//! ```
//!
//! Arguments: a run state (`SUCCEEDED`, `FAILED`, `RUNNING`, … default `FAILED`) and an optional
//! text the display name must contain. Lists the runs of the last 7 days, newest first, in the
//! configured namespace (`KUBEFLOW_NAMESPACE`, required in multi-user mode).

use futures::TryStreamExt;
use kubeflow_pipelines::{Filter, KubeflowConfig, PipelinesClient, RuntimeState};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let state: RuntimeState = args.next().as_deref().unwrap_or("FAILED").parse()?;
    let mut filter = Filter::eq("state", state.clone()).and(Filter::gt(
        "created_at",
        chrono::Utc::now() - chrono::Duration::days(7),
    ));
    if let Some(text) = args.next() {
        filter = filter.and(Filter::substring("display_name", text));
    }

    let kfp = PipelinesClient::from_config(KubeflowConfig::infer().await?)?;
    let mut runs = kfp
        .runs()
        .list()
        .filter(filter)
        .sort_by("created_at desc")
        .page_size(200)
        .stream();
    let mut n = 0;
    while let Some(run) = runs.try_next().await? {
        n += 1;
        println!(
            "{}  {:<40}  {}  finished {}",
            run.run_id.as_deref().unwrap_or("?"),
            run.display_name.as_deref().unwrap_or(""),
            run.state(),
            run.finished_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "-".into())
        );
    }
    println!("{n} run(s) {state} in the last 7 days");
    Ok(())
}
