//! Lightweight Python components authored from Rust compile to the same IR as `@dsl.component`
//! for the same function: each pipeline is built in Python (compiled at test time with `kfp`
//! from the test environment's venv) and in Rust, and the two documents must be equal apart
//! from `sdkVersion`.

use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline, Placeholder, PythonComponent};
use kubeflow_pipelines::spec::ParameterType;

mod pipelines_ir_equal_support;
use pipelines_ir_equal_support::{TestResult, assert_same_ir};

const ADD: &str = r#"def add(a: int, b: int = 2) -> int:
    return a + b
"#;

const MAKE: &str = r#"def make_data(rows: int, out: Output[Dataset], note: Optional[str] = None, tags: List[str] = ["a", "b"]):
    with open(out.path, "w") as f:
        f.write("x\n" * rows)
"#;

const TRAIN: &str = r#"def train(
    data: Input[Dataset],
    model: Output[Model],
    metrics: Output[Metrics],
    lr: float = 0.1,  # learning rate
    opts: Dict[str, int] = {'depth': 3},
    enabled: bool = True,
) -> NamedTuple('Outputs', [('accuracy', float), ('label', str)]):
    """Trains a model.

    Args:
        data: the training data.
        lr (float): the learning
            rate.

    Returns:
        accuracy: accuracy on the data.
    """
    import collections
    metrics.log_metric("accuracy", 0.9)
    with open(model.path, "w") as f:
        f.write(data.path)
    Outputs = collections.namedtuple("Outputs", ["accuracy", "label"])
    return Outputs(0.9, "ok")
"#;

const SUMMARIZE: &str = r#"    @dsl.component(base_image="python:3.12")
    def summarize(models: Input[List[Model]], best: OutputPath(str), report: OutputPath('Markdown')) -> Model:
        pass
"#;

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn lightweight_python_components() -> TestResult {
    let python = format!(
        r#"
from typing import *
from kfp import dsl
from kfp.dsl import *

@dsl.component(base_image="python:3.11")
{ADD}
@dsl.component(base_image="python:3.12", packages_to_install=["pandas==2.2.0", "numpy"])
{MAKE}
@dsl.component(
    base_image="python:3.12",
    packages_to_install=["scikit-learn"],
    pip_index_urls=["https://pypi.example/simple", "https://extra.example/simple"],
)
{TRAIN}
@dsl.component(base_image="python:3.11", packages_to_install=["kfp==2.17.3"], pip_index_urls=["https://pypi.example/simple"], pip_trusted_hosts=[])
def echo(msg: str) -> str:
    return msg

@dsl.container_component
def show(text: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[text])

@dsl.pipeline(name="python-components")
def pipeline(x: int = 1):
    a = add(a=x)
    a2 = add(a=a.output, b=40)
    m = make_data(rows=a2.output)
    t = train(data=m.outputs["out"], lr=0.5, opts={{"depth": 5}})
    e = echo(msg=t.outputs["label"])
    show(text=e.output)
"#
    );
    let add = PythonComponent::new("add", ADD)?;
    let make = PythonComponent::new("make_data", MAKE)?
        .base_image("python:3.12")
        .packages_to_install(["pandas==2.2.0", "numpy"]);
    let train = PythonComponent::new("train", TRAIN)?
        .base_image("python:3.12")
        .packages_to_install(["scikit-learn"])
        .pip_index_urls([
            "https://pypi.example/simple",
            "https://extra.example/simple",
        ]);
    let echo = PythonComponent::new("echo", "def echo(msg: str) -> str:\n    return msg\n\n\n")?
        .packages_to_install(["kfp==2.17.3"])
        .pip_index_urls(["https://pypi.example/simple"])
        .pip_trusted_hosts(Vec::<String>::new());
    let show = ContainerComponent::new("show", "alpine")
        .input("text", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("text")]);

    let mut p = Pipeline::new("python-components");
    let x = p.parameter_with_default("x", ParameterType::NumberInteger, 1);
    let a = p.add(add.task().arg("a", &x));
    let a2 = p.add(add.task().arg("a", a.output("Output")).arg("b", 40));
    let m = p.add(make.task().arg("rows", a2.output("Output")));
    let t = p.add(
        train
            .task()
            .arg("data", m.output("out"))
            .arg("lr", 0.5)
            .arg("opts", serde_json::json!({"depth": 5})),
    );
    let e = p.add(echo.task().arg("msg", t.output("label")));
    p.add(show.task().arg("text", e.output("Output")));
    assert_same_ir(&python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn python_component_with_artifact_lists_and_output_paths() -> TestResult {
    let python = format!(
        r#"
from typing import *
from kfp import dsl
from kfp.dsl import *

@dsl.component(base_image="python:3.12")
def fit(seed: int, model: Output[Model]):
    pass

def outer():
{SUMMARIZE}
    return summarize

summarize = outer()

@dsl.pipeline(name="artifact-lists")
def pipeline():
    with dsl.ParallelFor([1, 2]) as seed:
        f = fit(seed=seed)
    summarize(models=dsl.Collected(f.outputs["model"]))
"#
    );
    let fit = PythonComponent::new(
        "fit",
        "def fit(seed: int, model: Output[Model]):\n    pass\n",
    )?
    .base_image("python:3.12");
    let summarize = PythonComponent::new("summarize", SUMMARIZE)?.base_image("python:3.12");
    let mut p = Pipeline::new("artifact-lists");
    let f = p.parallel_for_items(vec![1.into(), 2.into()], None, |p, seed| {
        p.add(fit.task().arg("seed", seed))
    });
    p.add(summarize.task().arg("models", f.collected("model")));
    assert_same_ir(&python, &p)
}

const FINISH: &str = r#"def finish(status: PipelineTaskFinalStatus, note: str = "done\tok\u00e9"):
    """Reports the final status.

    Returns:
        Nothing.
    """
    print(status.state, note)
"#;

const PICK: &str = r#"def pick(
    # the candidates
    candidates: list = [{"name": "a", "w": 0.5}, {"name": "b", "w": -1}],
    ref: Optional[Input[Artifact]] = None,
    threshold: float = 1e-3,
    count: int = -2,
) -> Dataset:
    """Picks a candidate.

    Returns:
        Output: the picked candidate, as a dataset.
    """
    return None
"#;

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn python_components_in_an_exit_handler() -> TestResult {
    let python = format!(
        r#"
from typing import *
from kfp import dsl
from kfp.dsl import *

@dsl.component(base_image="python:3.12", use_venv=True)
{FINISH}
@dsl.component(base_image="python:3.12", install_kfp_package=False, packages_to_install=["pandas"])
{PICK}
@dsl.component(base_image="python:3.12", kfp_package_path="git+https://example.org/kfp@refs/pull/1/head#subdirectory=sdk/python")
def size(data: Input[Dataset]) -> int:
    return 1

@dsl.pipeline(name="exit-python")
def pipeline():
    f = finish()
    with dsl.ExitHandler(f, name="main"):
        p = pick(threshold=0.5)
        size(data=p.output)
"#
    );
    let finish = PythonComponent::new("finish", FINISH)?
        .base_image("python:3.12")
        .use_venv(true);
    let pick = PythonComponent::new("pick", PICK)?
        .base_image("python:3.12")
        .install_kfp_package(false)
        .packages_to_install(["pandas"]);
    let size = PythonComponent::new(
        "size",
        "def size(data: Input[Dataset]) -> int:\n    return 1\n",
    )?
    .base_image("python:3.12")
    .kfp_package_path("git+https://example.org/kfp@refs/pull/1/head#subdirectory=sdk/python");
    let mut p = Pipeline::new("exit-python");
    p.exit_handler(finish.task(), Some("main"), |p| {
        let picked = p.add(pick.task().arg("threshold", 0.5));
        p.add(size.task().arg("data", picked.output("Output")));
    });
    assert_same_ir(&python, &p)
}
