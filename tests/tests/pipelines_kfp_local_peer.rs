//! The peer of our local runner: each comparison pipeline of `tests/pipelines/*.py` is compiled
//! with the official compiler and run by the Python SDK's `kfp.local` (SubprocessRunner, kfp
//! 2.17.3 from the test venv), and its outputs are what the pipeline computes.
//!
//! Beside each case, our runner (`kubeflow_pipelines::local`) runs the same compiled YAML with
//! the same arguments and must give the same outputs: parameters equal, artifacts with the same
//! type, metadata, content and place in the run folder (compared through
//! `kfp_local::normalize_numbers`: kfp.local writes some integers as floats).

use std::path::{Path, PathBuf};

use kubeflow_pipelines::local::{LocalArtifact, LocalError, LocalRunner, RunRecord};
use kubeflow_pipelines::spec::CompiledPipeline;

use kubeflow_test_support::kfp_local::{
    ScratchDir, compile_python_pipeline, kfp_local_run, normalize_numbers, pipelines_dir,
};
use kubeflow_test_support::python::parse_pipeline_yaml;
use serde_json::{Value, json};

type TestResult = anyhow::Result<()>;

/// One comparison pipeline, compiled and run by kfp.local.
struct Peer {
    /// Scratch folder holding the compiled YAML and the pipeline root (removed on drop).
    dir: ScratchDir,
    /// The compiled pipeline (`<dir>/<file>.yaml`).
    yaml: PathBuf,
    /// kfp.local's result: `{"outputs": {...}, "run_dir": ..., "seconds": ...}`.
    result: Value,
}

impl Peer {
    fn outputs(&self) -> &Value {
        &self.result["outputs"]
    }

    fn run_dir(&self) -> anyhow::Result<PathBuf> {
        match self.result["run_dir"].as_str() {
            Some(dir) => Ok(PathBuf::from(dir)),
            None => anyhow::bail!("kfp.local result has no run_dir: {}", self.result),
        }
    }
}

/// An artifact in the shape `kfp_local_run.py` prints.
fn artifact_json(artifact: &LocalArtifact) -> Value {
    let content = artifact
        .path()
        .filter(|p| p.is_file())
        .and_then(|p| std::fs::read(p).ok())
        .filter(|bytes| bytes.len() <= 64 * 1024)
        .and_then(|bytes| String::from_utf8(bytes).ok());
    json!({
        "name": artifact.name,
        "schema_title": artifact.schema_title,
        "uri": artifact.uri,
        "metadata": artifact.metadata,
        "content": content,
    })
}

/// Runs the peer's compiled pipeline with our runner (the venv's Python for the lightweight
/// components), with the same arguments.
fn run_ours(peer: &Peer, args: &Value) -> anyhow::Result<Result<RunRecord, LocalError>> {
    let package = CompiledPipeline::read(&peer.yaml)?;
    let runner = LocalRunner::new()
        .pipeline_root(peer.dir.path().join("ours"))
        .python(kubeflow_test_support::kfp_local::venv_python()?);
    let args: Vec<(String, Value)> = args
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let runtime = tokio::runtime::Runtime::new()?;
    Ok(runtime.block_on(runner.run(&package).args(args).send()))
}

/// Our outputs in kfp.local's shape, artifact URIs made relative to the run folder.
fn ours_as_peer(record: &RunRecord) -> Value {
    let mut outputs = serde_json::Map::new();
    for (name, value) in &record.outputs.parameters {
        outputs.insert(name.clone(), value.clone());
    }
    for (name, list) in &record.outputs.artifacts {
        let mut items: Vec<Value> = list.iter().map(artifact_json).collect();
        for item in &mut items {
            relative_uri(item, &record.dir);
        }
        let value = if items.len() == 1 {
            items.remove(0)
        } else {
            Value::Array(items)
        };
        outputs.insert(name.clone(), value);
    }
    normalize_numbers(&Value::Object(outputs))
}

fn relative_uri(artifact: &mut Value, run_dir: &Path) {
    if let Some(uri) = artifact["uri"].as_str()
        && let Ok(rel) = Path::new(uri).strip_prefix(run_dir)
    {
        artifact["uri"] = Value::String(rel.display().to_string());
    }
}

/// kfp.local's outputs, artifact URIs made relative to its run folder.
fn peer_normalized(peer: &Peer) -> anyhow::Result<Value> {
    let run_dir = peer.run_dir()?;
    let mut outputs = normalize_numbers(peer.outputs());
    if let Some(map) = outputs.as_object_mut() {
        for value in map.values_mut() {
            if value.get("uri").is_some() {
                relative_uri(value, &run_dir);
            }
        }
    }
    Ok(outputs)
}

/// Our runner gives exactly kfp.local's outputs for the same pipeline and arguments.
fn assert_same_as_ours(peer: &Peer, args: &Value) -> anyhow::Result<RunRecord> {
    let record = run_ours(peer, args)?.map_err(|err| anyhow::anyhow!("our runner: {err}"))?;
    let ours = ours_as_peer(&record);
    let theirs = peer_normalized(peer)?;
    // Artifact names: kfp.local names an output artifact after its output key, as we do.
    assert_eq!(ours, theirs, "our runner vs kfp.local, arguments {args}");
    Ok(record)
}

/// Compiles `tests/pipelines/<file>.py`'s `func` (checking the YAML names the pipeline
/// `pipeline_name`) and runs it with kfp.local with `args`.
fn run_peer(file: &str, func: &str, pipeline_name: &str, args: Value) -> anyhow::Result<Peer> {
    let source = pipelines_dir().join(format!("{file}.py"));
    let dir = ScratchDir::new(&format!("kf-peer-{file}"))?;
    let yaml = dir.path().join(format!("{file}.yaml"));
    compile_python_pipeline(&source, func, &yaml)?;
    let documents = parse_pipeline_yaml(&std::fs::read_to_string(&yaml)?)?;
    let name = documents
        .first()
        .and_then(|spec| spec["pipelineInfo"]["name"].as_str());
    anyhow::ensure!(
        name == Some(pipeline_name),
        "{} compiled to pipeline {name:?}, want {pipeline_name:?}",
        source.display()
    );
    let result = kfp_local_run(&source, func, &args, &dir.path().join("root"))?;
    Ok(Peer { dir, yaml, result })
}

#[test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
fn params_pipeline_defaults() -> TestResult {
    let peer = run_peer("params", "params_pipeline", "peer-params", json!({}))?;
    assert_same_as_ours(&peer, &json!({}))?;
    assert_eq!(
        peer.outputs(),
        &json!({
            "sum": 7,
            "product": 10.5,
            "greeting": "hello kubeflow, hello kubeflow",
            "summary": "10.50 | hello kubeflow, hello kubeflow | x+y | big=10,small=1",
        })
    );
    assert!(peer.yaml.is_file());
    // One folder per run: <root>/<pipeline name>-<timestamp>, one sub-folder per task.
    let run_dir = peer.run_dir()?;
    assert!(run_dir.starts_with(peer.dir.path().join("root")));
    let run_name = run_dir
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    assert!(run_name.starts_with("peer-params-"), "{run_name}");
    for task in ["add", "scale", "greet", "describe"] {
        assert!(
            run_dir.join(task).join("executor_output.json").is_file(),
            "{task}"
        );
    }
    Ok(())
}

#[test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
fn params_pipeline_arguments() -> TestResult {
    let args = json!({
        "a": 3, "b": -10, "factor": 0.25, "name": "rust", "loud": true,
        "tags": ["p"], "sizes": {"one": 1},
    });
    let peer = run_peer("params", "params_pipeline", "peer-params", args.clone())?;
    assert_same_as_ours(&peer, &args)?;
    assert_eq!(
        peer.outputs(),
        &json!({
            "sum": -7,
            "product": -1.75,
            "greeting": "hello rust, hello rust, hello rust",
            "summary": "-1.75 | HELLO RUST, HELLO RUST, HELLO RUST | p | one=1",
        })
    );
    Ok(())
}

#[test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
fn artifacts_pipeline() -> TestResult {
    let peer = run_peer(
        "artifacts",
        "artifacts_pipeline",
        "peer-artifacts",
        json!({}),
    )?;
    let outputs = normalize_numbers(peer.outputs());
    let run_dir = peer.run_dir()?;
    assert_eq!(outputs["total"], json!(14));
    assert_same_as_ours(&peer, &json!({}))?;

    let dataset = &outputs["dataset"];
    assert_eq!(dataset["schema_title"], "system.Dataset");
    assert_eq!(dataset["content"], "0,0\n1,1\n2,4\n3,9\n");
    assert_eq!(dataset["metadata"], json!({"rows": 4}));
    // Artifacts live at <run dir>/<task>/<output name>.
    assert_eq!(
        dataset["uri"].as_str(),
        run_dir.join("make-dataset").join("data").to_str()
    );

    let model = &outputs["model"];
    assert_eq!(model["schema_title"], "system.Model");
    assert_eq!(model["content"], "weights=14");
    assert_eq!(model["metadata"], json!({"framework": "sum"}));
    assert_eq!(
        model["uri"].as_str(),
        run_dir.join("train").join("model").to_str()
    );

    let metrics = &outputs["metrics"];
    assert_eq!(metrics["schema_title"], "system.Metrics");
    assert_eq!(metrics["metadata"], json!({"rows": 4, "total": 14}));
    // log_metric only fills the metadata: no file is written at the uri.
    assert_eq!(metrics["content"], Value::Null);

    // Unnormalised, kfp.local prints the metadata numbers as floats.
    assert_eq!(peer.outputs()["metrics"]["metadata"]["rows"], json!(4.0));

    let rows = run_peer(
        "artifacts",
        "artifacts_pipeline",
        "peer-artifacts",
        json!({"rows": 2}),
    )?;
    let outputs = normalize_numbers(rows.outputs());
    assert_eq!(outputs["total"], json!(1));
    assert_same_as_ours(&rows, &json!({"rows": 2}))?;
    assert_eq!(outputs["dataset"]["content"], "0,0\n1,1\n");
    assert_eq!(outputs["model"]["content"], "weights=1");
    Ok(())
}

#[test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
fn control_pipeline_branches_and_fan_in() -> TestResult {
    let cases = [
        (json!({}), json!({"grade": "high", "sum_of_squares": 30})),
        (
            json!({"x": 3, "items": [5, 6]}),
            json!({"grade": "mid", "sum_of_squares": 61}),
        ),
        (
            json!({"x": 1, "items": [2]}),
            json!({"grade": "low", "sum_of_squares": 4}),
        ),
    ];
    for (args, expected) in cases {
        let peer = run_peer("control", "control_pipeline", "peer-control", args.clone())?;
        assert_eq!(peer.outputs(), &expected, "arguments {args}");
        assert_same_as_ours(&peer, &args)?;
        // Each ParallelFor iteration gets a folder of its own: <run dir>/<loop>-iteration-<i>/.
        let items = args["items"].as_array().map_or(4, Vec::len);
        let run_dir = peer.run_dir()?;
        let iterations = std::fs::read_dir(&run_dir)?
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().contains("-iteration-"))
            .count();
        assert_eq!(
            iterations,
            items,
            "iteration folders in {}",
            run_dir.display()
        );
    }
    Ok(())
}

#[test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
fn control_pipeline_empty_fan_out_is_a_kfp_local_limitation() -> TestResult {
    // kfp.local 2.17.3 records no output for a ParallelFor over an empty list, so the
    // dsl.Collected consumer cannot resolve it (the remote backend passes []). Our runner should
    // give sum_of_squares 0; this test notices when kfp.local changes.
    let err = match run_peer(
        "control",
        "control_pipeline",
        "peer-control",
        json!({"items": []}),
    ) {
        Ok(peer) => anyhow::bail!("kfp.local now runs an empty fan-out: {}", peer.result),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("for-loop"), "{err}");

    // Our runner collects an empty list, as the KFP backend does.
    let peer = run_peer("control", "control_pipeline", "peer-control", json!({}))?;
    let record = run_ours(&peer, &json!({"items": []}))?
        .map_err(|err| anyhow::anyhow!("our runner: {err}"))?;
    assert_eq!(
        ours_as_peer(&record),
        json!({"grade": "high", "sum_of_squares": 0})
    );
    Ok(())
}

#[test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
fn exit_handler_reads_final_status() -> TestResult {
    let marker_dir = ScratchDir::new("kf-peer-marker")?;
    let marker = marker_dir.path().join("marker");
    let marker_arg = marker.to_str().unwrap_or_default();

    let peer = run_peer(
        "exit_handler",
        "exit_pipeline",
        "peer-exit-handler",
        json!({"marker": marker_arg}),
    )?;
    assert_eq!(
        peer.outputs(),
        &json!({"Output": "done:SUCCEEDED:exit-handler-1"})
    );
    assert_eq!(
        std::fs::read_to_string(&marker)?,
        "done:SUCCEEDED:exit-handler-1"
    );
    std::fs::remove_file(&marker)?;
    assert_same_as_ours(&peer, &json!({"marker": marker_arg}))?;
    assert_eq!(
        std::fs::read_to_string(&marker)?,
        "done:SUCCEEDED:exit-handler-1"
    );

    // The body fails: the pipeline fails, and the exit task still runs and sees FAILED.
    std::fs::remove_file(&marker)?;
    let err = match run_peer(
        "exit_handler",
        "exit_pipeline",
        "peer-exit-handler",
        json!({"marker": marker_arg, "n": -1}),
    ) {
        Ok(peer) => anyhow::bail!("a failing body succeeded: {}", peer.result),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("Inner task failed: 'work'"), "{err}");
    assert!(err.contains("n must not be negative"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&marker)?,
        "done:FAILED:exit-handler-1"
    );

    // Ours: the run fails naming the task, and the exit task saw FAILED too.
    std::fs::remove_file(&marker)?;
    let peer = run_peer(
        "exit_handler",
        "exit_pipeline",
        "peer-exit-handler",
        json!({"marker": marker_arg}),
    )?;
    let err = match run_ours(&peer, &json!({"marker": marker_arg, "n": -1}))? {
        Ok(record) => anyhow::bail!("our runner: a failing body succeeded: {:?}", record.state),
        Err(err) => err,
    };
    let text = err.to_string();
    assert!(text.contains("task `exit-handler-1/work` failed"), "{text}");
    assert!(text.contains("n must not be negative"), "{text}");
    assert_eq!(
        std::fs::read_to_string(&marker)?,
        "done:FAILED:exit-handler-1"
    );
    Ok(())
}
