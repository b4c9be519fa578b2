//! Pipelines compiled at test time by the official compiler (kfp 2.17.3 from the test venv)
//! read and write back losslessly: lightweight Python components, nested pipelines, pipeline
//! outputs, loops, `dsl.OneOf`, exit handlers, kfp-kubernetes settings.

use kubeflow_pipelines::spec::CompiledPipeline;
use kubeflow_test_support::python::compile_pipeline;
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn documents(yaml: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    Ok(
        serde_saphyr::from_multiple_with_options::<Value>(yaml, options)?
            .into_iter()
            .filter(|d| !d.is_null())
            .collect(),
    )
}

fn assert_lossless(name: &str, python: &str) -> TestResult {
    let yaml = compile_pipeline(python);
    let original = documents(&yaml)?;
    let package = CompiledPipeline::from_yaml_str(&yaml)?;
    let mut typed = vec![serde_json::to_value(&package.pipeline_spec)?];
    if let Some(platform) = &package.platform_spec {
        typed.push(serde_json::to_value(platform)?);
    }
    assert_eq!(
        typed, original,
        "{name}: typed documents differ from the compiler's"
    );
    let rewritten = documents(&package.to_yaml_string()?)?;
    assert_eq!(rewritten, original, "{name}: rewritten YAML differs");
    assert_eq!(
        CompiledPipeline::from_json_str(&package.to_json_string()?)?,
        package,
        "{name}: JSON round trip"
    );
    Ok(())
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn lightweight_python_components_nested_pipelines_and_outputs() -> TestResult {
    assert_lossless(
        "lightweight",
        r#"
from typing import NamedTuple, List, Dict, Optional
from kfp import dsl
from kfp.dsl import Input, Output, Dataset, Model, Metrics, ClassificationMetrics, Artifact

@dsl.component(base_image="python:3.12", packages_to_install=["pandas==2.2.3"])
def prepare(rows: int, ratio: float, data: Output[Dataset], meta: Dict[str, int] = {"a": 1}) -> NamedTuple("Out", [("count", int), ("name", str)]):
    """Prepares data.

    Args:
        rows: how many rows.
    """
    data.metadata["rows"] = rows
    Out = NamedTuple("Out", [("count", int), ("name", str)])
    return Out(rows, "n")

@dsl.component
def train(data: Input[Dataset], epochs: int, flag: bool, tags: List[str], model: Output[Model], metrics: Output[Metrics], cls: Output[ClassificationMetrics], note: Optional[str] = None) -> float:
    return 0.5

@dsl.pipeline
def inner(rows: int = 3) -> Model:
    p = prepare(rows=rows, ratio=0.5)
    t = train(data=p.outputs["data"], epochs=p.outputs["count"], flag=True, tags=["a", "y", "on"])
    t.set_caching_options(False).set_retry(2)
    return t.outputs["model"]

@dsl.pipeline(name="outer", description="nested")
def pipeline(rows: int = 5, text: str = "yes") -> NamedTuple("Outputs", [("model", Model), ("score", float)]):
    i = inner(rows=rows)
    p = prepare(rows=rows, ratio=1.5)
    t = train(data=p.outputs["data"], epochs=2, flag=False, tags=[text])
    Outputs = NamedTuple("Outputs", [("model", Model), ("score", float)])
    return Outputs(model=i.output, score=t.outputs["Output"])
"#,
    )
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn loops_conditions_oneof_exit_handlers_and_kubernetes() -> TestResult {
    assert_lossless(
        "control flow",
        r#"
from typing import List
from kfp import dsl, kubernetes
from kfp.dsl import Output, Artifact

@dsl.component
def flip() -> str:
    return "heads"

@dsl.component
def make(x: int, out: Output[Artifact]) -> int:
    return x

@dsl.component
def show(msg: str) -> str:
    return msg

@dsl.component
def final(status: dsl.PipelineTaskFinalStatus):
    print(status)

@dsl.pipeline(name="control-flow")
def pipeline(items: List[dict] = [{"a": 1, "b": "x"}], n: int = 2) -> str:
    exit_task = final()
    with dsl.ExitHandler(exit_task):
        f = flip()
        with dsl.If(f.output == "heads"):
            a = show(msg="h")
        with dsl.Else():
            b = show(msg="t")
        chosen = dsl.OneOf(a.output, b.output)
        show(msg=chosen)
        with dsl.ParallelFor(items, parallelism=1) as item:
            m = make(x=n)
            show(msg=item.b)
            with dsl.ParallelFor([1, 2]) as inner:
                make(x=inner)
        show(msg=f.output).after(m)
    vol = kubernetes.CreatePVC(pvc_name_suffix="-p", access_modes=["ReadWriteOnce"], size="1Gi", storage_class_name="standard")
    user = show(msg="x")
    kubernetes.mount_pvc(user, pvc_name=vol.outputs["name"], mount_path="/data")
    kubernetes.add_node_selector(user, label_key="k", label_value="v")
    kubernetes.DeletePVC(pvc_name=vol.outputs["name"]).after(user)
    return user.output
"#,
    )
}
