//! The quickstart: a small but real ML pipeline written in Rust, run on this machine with no
//! cluster — make a dataset, train a linear model, evaluate it, and register it only when it is
//! good enough. Every step is a plain `python3` (standard library) or `sh` command, so it runs
//! anywhere; on Kubeflow the same steps run in the `python:3.12-slim` image.
//!
//! ```text
//! cargo run -p kubeflow-examples --example quickstart                     # run locally
//! cargo run -p kubeflow-examples --example quickstart -- rows=2000 noise=4 min_r2=0.95
//! cargo run -p kubeflow-examples --example quickstart -- --write quickstart.yaml
//! KUBEFLOW_ENDPOINT=http://localhost:8080 KUBEFLOW_USERNAME=user@example.com \
//!     KUBEFLOW_PASSWORD=12341234 cargo run -p kubeflow-examples --example quickstart
//! ```
//!
//! Runs are written under `./local_outputs` (one folder per run, with every task's inputs,
//! outputs, artifacts, log and a `run.json` record). Caching is on: run it twice and the second
//! run reuses every step. With `KUBEFLOW_ENDPOINT` set, the same pipeline is uploaded to that
//! Kubeflow and run there instead.

use std::time::{Duration, Instant};

use anyhow::Context;
use kubeflow_pipelines::dsl::{
    Condition, ContainerComponent, Pipeline, Placeholder, Retry, artifact,
};
use kubeflow_pipelines::local::{LocalRunner, RunEvent, TaskKind, TaskState};
use kubeflow_pipelines::spec::{CompiledPipeline, ParameterType};
use kubeflow_pipelines::{KubeflowConfig, PipelinePackage, PipelinesClient};

const IMAGE: &str = "python:3.12-slim";

const MAKE_DATA: &str = r#"
import csv, random, sys
rows, noise, seed, out = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = random.Random(seed)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["x", "y"])
    for _ in range(rows):
        x = rng.uniform(0, 10)
        w.writerow([round(x, 4), round(3.0 * x + 2.0 + rng.gauss(0, noise), 4)])
print(f"wrote {rows} rows (noise {noise}) to {out}")
"#;

const TRAIN: &str = r#"
import csv, json, sys
data, holdout, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(open(data))]
n = int(len(rows) * (1 - holdout))
train = rows[:n]
mx = sum(x for x, _ in train) / n
my = sum(y for _, y in train) / n
slope = sum((x - mx) * (y - my) for x, y in train) / sum((x - mx) ** 2 for x, _ in train)
model = {"kind": "linear", "slope": slope, "intercept": my - slope * mx, "trained_on": n}
json.dump(model, open(out, "w"), indent=2)
print(f"y = {model['slope']:.3f} x + {model['intercept']:.3f} (trained on {n} rows)")
"#;

const EVALUATE: &str = r#"
import csv, json, math, sys
data, model_path, holdout, metrics_path, r2_out, rmse_out = sys.argv[1:7]
rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(open(data))]
test = rows[int(len(rows) * (1 - float(holdout))):]
m = json.load(open(model_path))
errors = [y - (m["slope"] * x + m["intercept"]) for x, y in test]
mean_y = sum(y for _, y in test) / len(test)
rmse = math.sqrt(sum(e * e for e in errors) / len(errors))
r2 = 1 - sum(e * e for e in errors) / sum((y - mean_y) ** 2 for _, y in test)
json.dump({"r2": r2, "rmse": rmse, "test_rows": len(test)}, open(metrics_path, "w"), indent=2)
open(r2_out, "w").write(repr(r2))
open(rmse_out, "w").write(repr(rmse))
print(f"r2 = {r2:.4f}, rmse = {rmse:.4f} on {len(test)} held-out rows")
"#;

/// The pipeline, written with the Rust DSL.
fn pipeline() -> anyhow::Result<CompiledPipeline> {
    let make_data = ContainerComponent::new("make-data", IMAGE)
        .description("Makes a noisy linear dataset.")
        .input("rows", ParameterType::NumberInteger)
        .input("noise", ParameterType::NumberDouble)
        .input_with_default("seed", ParameterType::NumberInteger, 7)
        .output_artifact("data", artifact::dataset())
        .command(["python3", "-c", MAKE_DATA])
        .args([
            Placeholder::input("rows"),
            Placeholder::input("noise"),
            Placeholder::input("seed"),
            Placeholder::output_path("data"),
        ]);
    let train = ContainerComponent::new("train", IMAGE)
        .description("Fits y = a x + b by least squares.")
        .input_artifact("data", artifact::dataset())
        .input("holdout", ParameterType::NumberDouble)
        .output_artifact("model", artifact::model())
        .command(["python3", "-c", TRAIN])
        .args([
            Placeholder::input_path("data"),
            Placeholder::input("holdout"),
            Placeholder::output_path("model"),
        ]);
    let evaluate = ContainerComponent::new("evaluate", IMAGE)
        .description("Scores the model on the held-out rows.")
        .input_artifact("data", artifact::dataset())
        .input_artifact("model", artifact::model())
        .input("holdout", ParameterType::NumberDouble)
        .output_artifact("metrics", artifact::metrics())
        .output("r2", ParameterType::NumberDouble)
        .output("rmse", ParameterType::NumberDouble)
        .command(["python3", "-c", EVALUATE])
        .args([
            Placeholder::input_path("data"),
            Placeholder::input_path("model"),
            Placeholder::input("holdout"),
            Placeholder::output_path("metrics"),
            Placeholder::output_file("r2"),
            Placeholder::output_file("rmse"),
        ]);
    let register = ContainerComponent::new("register", IMAGE)
        .input_artifact("model", artifact::model())
        .input("r2", ParameterType::NumberDouble)
        .output_artifact("registered", artifact::model())
        .command([
            "sh",
            "-ec",
            "mkdir -p \"$(dirname \"$3\")\"; cp \"$1\" \"$3\"; echo \"registered the model (r2 $2)\"",
            "--",
        ])
        .args([
            Placeholder::input_path("model"),
            Placeholder::input("r2"),
            Placeholder::output_path("registered"),
        ]);
    let reject = ContainerComponent::new("reject", IMAGE)
        .input("r2", ParameterType::NumberDouble)
        .input("min_r2", ParameterType::NumberDouble)
        .command([
            "sh",
            "-c",
            "echo \"not registered: r2 $1 is below $2\"",
            "--",
        ])
        .args([Placeholder::input("r2"), Placeholder::input("min_r2")]);

    let mut p = Pipeline::new("quickstart")
        .description("Make data, train, evaluate, and register the model when it is good enough.");
    let rows = p.parameter_with_default("rows", ParameterType::NumberInteger, 1000);
    let noise = p.parameter_with_default("noise", ParameterType::NumberDouble, 1.5);
    let holdout = p.parameter_with_default("holdout", ParameterType::NumberDouble, 0.2);
    let min_r2 = p.parameter_with_default("min_r2", ParameterType::NumberDouble, 0.9);

    let data = p.add(make_data.task().arg("rows", &rows).arg("noise", &noise));
    let model = p.add(
        train
            .task()
            .arg("data", data.output("data"))
            .arg("holdout", &holdout)
            .retry(Retry::times(2).backoff("1s")),
    );
    let scores = p.add(
        evaluate
            .task()
            .arg("data", data.output("data"))
            .arg("model", model.output("model"))
            .arg("holdout", &holdout),
    );
    p.branches(|b| {
        b.if_(Condition::ge(scores.output("r2"), &min_r2), |p| {
            p.add(
                register
                    .task()
                    .arg("model", model.output("model"))
                    .arg("r2", scores.output("r2")),
            );
        });
        b.else_(|p| {
            p.add(
                reject
                    .task()
                    .arg("r2", scores.output("r2"))
                    .arg("min_r2", &min_r2),
            );
        });
    });
    p.output("r2", scores.output("r2"));
    p.output("rmse", scores.output("rmse"));
    p.output("model", model.output("model"));
    p.output("metrics", scores.output("metrics"));
    Ok(p.compile_package()?)
}

fn parse_args(args: &[String]) -> anyhow::Result<Vec<(String, serde_json::Value)>> {
    args.iter()
        .map(|arg| {
            let (name, value) = arg
                .split_once('=')
                .with_context(|| format!("argument `{arg}` is not name=value"))?;
            let value = serde_json::from_str(value)
                .unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
            Ok((name.to_owned(), value))
        })
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let package = pipeline()?;
    if let Some(i) = args.iter().position(|a| a == "--write") {
        let path = args
            .get(i + 1)
            .context("--write needs a file name")?
            .clone();
        package.write(&path)?;
        println!("wrote {path}: upload it to Kubeflow, or run it with the local_run example");
        return Ok(());
    }
    let arguments = parse_args(&args.split_off(0))?;
    if std::env::var_os("KUBEFLOW_ENDPOINT").is_some() {
        return run_on_kubeflow(&package, arguments).await;
    }

    println!("Running the pipeline `quickstart` on this machine (no cluster needed).\n");
    let clock = Instant::now();
    let record = LocalRunner::new()
        .caching(true)
        .run(&package)
        .args(arguments)
        .on_event(move |event| {
            // Groups (branches, loops) are shown by their tasks.
            if matches!(
                event,
                RunEvent::TaskStarted {
                    kind: TaskKind::Dag | TaskKind::Loop,
                    ..
                } | RunEvent::TaskFinished {
                    kind: TaskKind::Dag | TaskKind::Loop,
                    ..
                }
            ) {
                return;
            }
            println!("[{:>6.2}s] {event}", clock.elapsed().as_secs_f64());
        })
        .cancel_on_ctrl_c()
        .await?;

    println!("\nTasks:");
    for task in &record.tasks {
        // Groups are shown by their tasks, unless nothing in them ran.
        if task.kind == TaskKind::Dag && task.state != TaskState::Skipped {
            continue;
        }
        println!(
            "  {:<42} {:<10} {:>6.2}s  {}",
            task.path,
            task.state.to_string(),
            task.duration().unwrap_or(Duration::ZERO).as_secs_f64(),
            task.log_tail(1).first().map(String::as_str).unwrap_or(""),
        );
    }
    let number = |name: &str| {
        record
            .output(name)
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::NAN)
    };
    println!(
        "\nMetrics: r2 = {:.4}, rmse = {:.4}",
        number("r2"),
        number("rmse")
    );
    if let Some(path) = record.output_artifact("metrics").and_then(|m| m.path()) {
        println!("  (the metrics artifact: {})", path.display());
    }
    if let Some(path) = record.output_artifact("model").and_then(|m| m.path()) {
        println!(
            "Model: {}",
            std::fs::read_to_string(&path)?.replace('\n', " ")
        );
    }
    println!(
        "Run record: {} ({} tasks, {:.2}s)",
        record.dir.join("run.json").display(),
        record.tasks.len(),
        record.duration().unwrap_or_default().as_secs_f64()
    );
    println!(
        "\nThe DAG (Mermaid):\n{}",
        package.pipeline_spec.to_mermaid()
    );
    println!(
        "Run it again: every step comes from the cache. Try `-- noise=6` to see the model \
         rejected.\nTo run the same pipeline on Kubeflow, set KUBEFLOW_ENDPOINT (and \
         KUBEFLOW_USERNAME/KUBEFLOW_PASSWORD, or KUBEFLOW_TOKEN) and run this again; or write it \
         with `-- --write quickstart.yaml` and upload that."
    );
    Ok(())
}

/// Uploads the pipeline to the Kubeflow that `KubeflowConfig::infer()` finds and runs it there.
async fn run_on_kubeflow(
    package: &CompiledPipeline,
    arguments: Vec<(String, serde_json::Value)>,
) -> anyhow::Result<()> {
    let kfp = PipelinesClient::from_config(KubeflowConfig::infer().await?)?;
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let uploaded = kfp
        .pipelines()
        .upload(PipelinePackage::spec(package.into()))
        .display_name(format!("quickstart {stamp}"))
        .send()
        .await?;
    let pipeline_id = uploaded
        .pipeline_id
        .context("the server sent no pipeline_id")?;
    println!("uploaded pipeline {pipeline_id}");
    let run = kfp
        .runs()
        .create(format!("quickstart {stamp}"))
        .latest_version_of(&pipeline_id)
        .params(arguments)
        .send()
        .await?;
    let run_id = run.run_id.context("the server sent no run_id")?;
    println!("started run {run_id}");
    let clock = Instant::now();
    let done = kfp
        .runs()
        .wait(&run_id)
        .timeout(Duration::from_secs(3600))
        .on_progress(move |state| println!("[{:>6.1?}] {state}", clock.elapsed()))
        .await?;
    println!("run {run_id} finished: {}", done.state());
    Ok(())
}
