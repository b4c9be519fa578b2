//! Every reference IR example (compiled by the official SDK, read in place from
//! `$KUBEFLOW_REFERENCE_DIR/kfp/ir-examples`) on the local runner: those that can run locally
//! run, with their outputs asserted; those that cannot are refused with an error naming the
//! task and the feature. Lightweight Python components use the test venv's Python (kfp 2.17.3).

use std::path::PathBuf;

use kubeflow_pipelines::local::{LocalError, LocalRunner, RunRecord, RunState, TaskState};
use kubeflow_pipelines::spec::CompiledPipeline;
use kubeflow_test_support::k8s::reference_dir;
use serde_json::{Value, json};

type TestResult = anyhow::Result<()>;

fn example(name: &str) -> anyhow::Result<CompiledPipeline> {
    let path: PathBuf = reference_dir()
        .join("kfp/ir-examples")
        .join(format!("{name}.yaml"));
    Ok(CompiledPipeline::read(&path)?)
}

fn runner(root: &tempfile::TempDir) -> anyhow::Result<LocalRunner> {
    Ok(LocalRunner::new()
        .pipeline_root(root.path())
        .python(kubeflow_test_support::kfp_local::venv_python()?))
}

fn succeeded(record: &RunRecord, path: &str) -> bool {
    record.task(path).map(|t| t.state) == Some(TaskState::Succeeded)
}

fn log(record: &RunRecord, path: &str) -> String {
    record
        .task(path)
        .and_then(|t| t.log.as_ref())
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn two_step_containerized() -> TestResult {
    let root = tempfile::tempdir()?;
    let package = example("two_step_pipeline_containerized")?;
    let record = runner(&root)?
        .run(&package)
        .arg("text", "hello from rust")
        .await?;
    assert!(succeeded(&record, "component1") && succeeded(&record, "component2"));
    assert_eq!(log(&record, "component2"), "hello from rust\n");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn lightweight_python_functions() -> TestResult {
    let root = tempfile::tempdir()?;
    let package = example("lightweight_python_functions_pipeline")?;
    let record = runner(&root)?.run(&package).arg("message", "hi").await?;
    let train = record.task("train").expect("train ran");
    let model = train.outputs.artifact("model").expect("model");
    // Metadata written by the Python executor reaches the artifact.
    assert_eq!(model.metadata.get("accuracy"), Some(&json!(0.9)));
    let text = std::fs::read_to_string(model.path().expect("local"))?;
    // num_steps defaults to 100 (written `100.0` in the YAML: an integer all the same).
    assert_eq!(text.matches("Step ").count(), 100);
    assert!(text.contains("message: hi"), "{text}");
    assert!(text.contains("input_bool: True"), "{text}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn condition() -> TestResult {
    let root = tempfile::tempdir()?;
    let package = example("pipeline_with_condition")?;
    // The coin is random: run until both sides were seen (bounded).
    let mut seen = (false, false);
    for _ in 0..12 {
        let record = runner(&root)?.run(&package).await?;
        let flip = record
            .task("flip-coin-op")
            .and_then(|t| t.outputs.parameter("Output").cloned());
        let heads = flip == Some(json!("heads"));
        assert!(heads || flip == Some(json!("tails")), "{flip:?}");
        let branch = record.task("condition-1").map(|t| t.state);
        if heads {
            assert_eq!(branch, Some(TaskState::Succeeded));
            assert!(succeeded(&record, "condition-1/print-op-2"));
            seen.0 = true;
        } else {
            assert_eq!(branch, Some(TaskState::Skipped));
            assert!(record.task("condition-1/print-op-2").is_none());
            seen.1 = true;
        }
        assert!(succeeded(&record, "print-op"));
        if seen.0 && seen.1 {
            break;
        }
    }
    assert!(seen.0 && seen.1, "12 flips never gave both sides: {seen:?}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn exit_handler() -> TestResult {
    let root = tempfile::tempdir()?;
    let package = example("pipeline_with_exit_handler")?;
    // The example's body fails on purpose; the exit task runs all the same.
    let err = runner(&root)?
        .run(&package)
        .await
        .expect_err("fail-op fails");
    let text = err.to_string();
    assert!(
        text.contains("task `exit-handler-1/fail-op` failed"),
        "{text}"
    );
    let LocalError::RunFailed(record) = err else {
        anyhow::bail!("not RunFailed: {text}");
    };
    assert_eq!(record.state, RunState::Failed);
    assert!(succeeded(&record, "exit-handler-1/print-op-2"));
    assert!(succeeded(&record, "print-op"), "{:#?}", record.tasks);
    assert!(log(&record, "print-op").contains("Exit handler has worked!"));
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn importer_of_remote_uris() -> TestResult {
    let root = tempfile::tempdir()?;
    let package = example("pipeline_with_importer")?;
    // Without a local copy: a clear error naming the URI.
    let err = runner(&root)?.run(&package).await.expect_err("remote");
    let text = err.to_string();
    assert!(
        text.contains("imports `gs://ml-pipeline-playground/shakespeare1.txt`, a remote URI"),
        "{text}"
    );
    // With one: both imports resolve, train reads the files, the condition branch runs.
    let copies = tempfile::tempdir()?;
    std::fs::write(copies.path().join("shakespeare1.txt"), "to be")?;
    std::fs::write(copies.path().join("shakespeare2.txt"), "or not")?;
    let record = runner(&root)?
        .artifact_source("gs://ml-pipeline-playground/", copies.path())
        .run(&package)
        .await?;
    let train = record.task("train").expect("train");
    assert_eq!(train.outputs.parameter("scalar"), Some(&json!("123")));
    let model = train.outputs.artifact("model").expect("model");
    assert_eq!(
        std::fs::read_to_string(model.path().expect("local"))?,
        "My model trained using data: to be"
    );
    let imported = record.task("importer").expect("importer");
    assert_eq!(
        imported
            .outputs
            .artifact("artifact")
            .map(|a| a.metadata.clone()),
        Some(
            json!({"key": "value"})
                .as_object()
                .cloned()
                .unwrap_or_default()
        )
    );
    assert!(
        succeeded(&record, "condition-1/train-2"),
        "{:#?}",
        record.tasks
    );
    assert!(log(&record, "condition-1/train-2").contains("or not"));
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn loops() -> TestResult {
    let root = tempfile::tempdir()?;
    let package = example("pipeline_with_loops")?;
    let record = runner(&root)?
        .run(&package)
        .arg("loop_parameter", json!(["a", "b", "c"]))
        .await?;
    let texts = |name: &str| -> Vec<String> {
        let mut lines: Vec<String> = record
            .tasks_named(name)
            // What the function printed: the line before the executor's last log line.
            .map(|t| t.log_tail(2).first().cloned().unwrap_or_default())
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(texts("print-text"), ["a", "b", "c"]);
    // Fields of the items produced by a task, and of raw items.
    assert_eq!(texts("print-text-2"), ["1", "10"]);
    assert_eq!(texts("print-text-3"), ["2", "20"]);
    assert_eq!(texts("print-text-4"), ["1", "10"]);
    assert_eq!(texts("print-text-5"), ["2", "20"]);
    assert_eq!(record.tasks_named("print-struct").count(), 2);
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn retry() -> TestResult {
    let root = tempfile::tempdir()?;
    let package = example("pipeline_with_retry")?;
    let record = runner(&root)?.run(&package).arg("b", 2.5).await?;
    let add = record.task("add").expect("add");
    assert_eq!(add.outputs.parameter("Output"), Some(&json!(3.5)));
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn secrets_as_env() -> TestResult {
    let root = tempfile::tempdir()?;
    let package = example("pipeline_with_secret_as_env")?;
    // The component asserts the three variables; the secret names come from a pipeline
    // parameter, a constant and a task output.
    let err = runner(&root)?.run(&package).await.expect_err("no secrets");
    assert!(err.to_string().contains("secret `test-secret-2`"), "{err}");
    let record = runner(&root)?
        .secret("test-secret-1", [("username", "user1")])
        .secret("test-secret-2", [("password", "psw1")])
        .secret("test-secret-3", [("password", "psw2")])
        .run(&package)
        .await?;
    assert!(succeeded(&record, "comp"));
    let on_disk = std::fs::read_to_string(record.dir.join("run.json"))?;
    assert!(!on_disk.contains("psw1") && !on_disk.contains("psw2"));
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn what_cannot_run_locally_is_refused_up_front() -> TestResult {
    let root = tempfile::tempdir()?;
    let cases: [(&str, Value); 2] = [
        (
            "pipeline_with_volume",
            json!(
                "task `consumer` cannot run locally: it mounts a PersistentVolumeClaim at `/data`"
            ),
        ),
        (
            "pipeline_with_resource_spec",
            json!(
                "task `ingestion` cannot run locally: it has no command: it runs the entrypoint of the image `gcr.io/my-project/my-ingestor`"
            ),
        ),
    ];
    for (name, expected) in cases {
        let err = runner(&root)?
            .run(&example(name)?)
            .await
            .expect_err("refused");
        assert!(
            matches!(err, LocalError::Unsupported { .. }),
            "{name}: {err}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with(expected.as_str().unwrap_or_default()),
            "{name}: {text}"
        );
    }
    // Nothing ran: no run folder was created.
    assert_eq!(std::fs::read_dir(root.path())?.count(), 0);
    Ok(())
}
