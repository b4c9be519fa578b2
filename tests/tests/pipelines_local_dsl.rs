//! Pipelines authored entirely in Rust — lightweight Python components (`PythonComponent`), a
//! nested pipeline used as a task, a loop with fan-in — run on the local runner with the test
//! venv's Python (kfp 2.17.3), outputs asserted.

use kubeflow_pipelines::dsl::{Pipeline, PythonComponent};
use kubeflow_pipelines::local::{LocalRunner, TaskKind, TaskState};
use kubeflow_pipelines::spec::ParameterType;
use serde_json::json;

type TestResult = anyhow::Result<()>;

#[tokio::test]
#[ignore = "needs the test venv (kfp 2.17.3) that scripts/test provides"]
async fn python_components_and_a_nested_pipeline_run_locally() -> TestResult {
    let make = PythonComponent::new(
        "make_rows",
        r#"
def make_rows(n: int, data: Output[Dataset]) -> int:
    with open(data.path, "w") as f:
        for i in range(n):
            f.write(f"{i},{i * i}\n")
    data.metadata["rows"] = n
    return n
"#,
    )?;
    let stats = PythonComponent::new(
        "stats",
        r#"
def stats(data: Input[Dataset], metrics: Output[Metrics]) -> NamedTuple('Outputs', [('total', int), ('first', str)]):
    from collections import namedtuple
    lines = open(data.path).read().splitlines()
    total = sum(int(line.split(",")[1]) for line in lines)
    metrics.log_metric("total", total)
    return namedtuple('Outputs', ['total', 'first'])(total, lines[0])
"#,
    )?;
    let double = PythonComponent::new(
        "double",
        r#"
def double(x: int) -> int:
    return 2 * x
"#,
    )?;
    let add_all = PythonComponent::new(
        "add_all",
        r#"
def add_all(xs: List[int]) -> int:
    return sum(xs)
"#,
    )?;

    // The inner pipeline: rows, then their statistics.
    let mut inner = Pipeline::new("inner");
    let n = inner.parameter_with_default("n", ParameterType::NumberInteger, 3);
    let rows = inner.add(make.task().arg("n", &n));
    let summary = inner.add(stats.task().arg("data", rows.output("data")));
    inner.output("total", summary.output("total"));

    // The outer pipeline: the inner one as a task, and a loop over a list with fan-in.
    let mut outer = Pipeline::new("outer");
    let size = outer.parameter_with_default("size", ParameterType::NumberInteger, 4);
    let nested = outer.add(inner.task().arg("n", &size));
    let doubled = outer.parallel_for_items(vec![1.into(), 2.into(), 3.into()], None, |p, x| {
        p.add(double.task().arg("x", x))
    });
    let summed = outer.add(add_all.task().arg("xs", doubled.collected("Output")));
    outer.output("total", nested.output("total"));
    outer.output("sum", summed.output("Output"));
    let package = outer.compile_package()?;

    let root = tempfile::tempdir()?;
    let record = LocalRunner::new()
        .pipeline_root(root.path())
        .python(kubeflow_test_support::kfp_local::venv_python()?)
        .run(&package)
        .arg("size", 5)
        .await?;
    // 0 + 1 + 4 + 9 + 16
    assert_eq!(record.output("total"), Some(&json!(30)));
    assert_eq!(record.output("sum"), Some(&json!(12)));

    let stats = record
        .tasks
        .iter()
        .find(|t| t.name == "stats")
        .expect("stats ran");
    assert_eq!(stats.kind, TaskKind::Python);
    assert_eq!(stats.outputs.parameter("first"), Some(&json!("0,0")));
    let metrics = stats.outputs.artifact("metrics").expect("metrics");
    assert_eq!(metrics.metadata.get("total"), Some(&json!(30)));
    let rows = record
        .tasks
        .iter()
        .find(|t| t.name == "make-rows")
        .expect("make-rows ran");
    let data = rows.outputs.artifact("data").expect("data");
    assert_eq!(data.metadata.get("rows"), Some(&json!(5)));
    assert_eq!(record.count(TaskState::Failed), 0);
    assert_eq!(record.tasks_named("double").count(), 3);
    Ok(())
}
