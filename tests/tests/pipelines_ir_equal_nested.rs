//! Pipelines used as components of other pipelines compile to the same IR as the official
//! compiler's nested `@dsl.pipeline` functions; so do pipeline outputs collected from loops or
//! chosen by if / else chains (`dsl.Collected`, `dsl.OneOf` returned by a pipeline).
//!
//! Deviation, on purpose: the official compiler renames the components and executors of a
//! nested pipeline that collide with names already taken, in the iteration order of protobuf
//! maps, which is not deterministic (compiling `nested_pipeline_in_a_loop_with_groups_inside`
//! six times gave three different numberings). So these tests compare modulo a canonical
//! renaming of components and executors (`assert_same_ir_modulo_names`, see
//! `canonical_names`), which also absorbs a kfp 2.17.3 bug seen in some runs: chained renames
//! leave two components on one executor. We rename deterministically: sorted order, each name
//! renamed once.

use kubeflow_pipelines::dsl::{
    Condition, ContainerComponent, DslError, Pipeline, Placeholder, artifact,
};
use kubeflow_pipelines::spec::ParameterType;

mod pipelines_ir_equal_support;
use pipelines_ir_equal_support::{TestResult, assert_same_ir, assert_same_ir_modulo_names};

fn make() -> ContainerComponent {
    ContainerComponent::new("make", "alpine")
        .input("text", ParameterType::String)
        .output_artifact("out", artifact::dataset())
        .command(["sh", "-c", r#"echo "$0" > "$1""#])
        .args([Placeholder::input("text"), Placeholder::output_path("out")])
}

fn show() -> ContainerComponent {
    ContainerComponent::new("show", "alpine")
        .input_artifact("data", artifact::dataset())
        .input("n", ParameterType::NumberInteger)
        .command(["cat"])
        .args([Placeholder::input_path("data"), Placeholder::input("n")])
}

fn count() -> ContainerComponent {
    ContainerComponent::new("count", "alpine")
        .input_artifact("data", artifact::dataset())
        .output("n", ParameterType::NumberInteger)
        .command(["wc"])
        .args([
            Placeholder::input_path("data"),
            Placeholder::output_file("n"),
        ])
}

/// `inner(data: Input[Dataset], n: int = 3) -> int`.
fn inner() -> Pipeline {
    let mut p = Pipeline::new("inner");
    let data = p.input_artifact("data", artifact::dataset());
    let n = p.parameter_with_default("n", ParameterType::NumberInteger, 3);
    p.add(show().task().arg("data", &data).arg("n", &n));
    let c = p.add(count().task().arg("data", &data).secret_as_env(
        "creds",
        [("token", "TOKEN")],
        false,
    ));
    p.output("Output", c.output("n"));
    p
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn nested_pipelines() -> TestResult {
    let python = r##"
from kfp import dsl, kubernetes
from kfp.dsl import Input, Output, Dataset

@dsl.container_component
def make(text: str, out: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "$0" > "$1"'], args=[text, out.path])

@dsl.container_component
def show(data: dsl.Input[dsl.Dataset], n: int):
    return dsl.ContainerSpec(image="alpine", command=["cat"], args=[data.path, n])

@dsl.container_component
def count(data: dsl.Input[dsl.Dataset], n: dsl.OutputPath(int)):
    return dsl.ContainerSpec(image="alpine", command=["wc"], args=[data.path, n])

@dsl.pipeline(name="inner")
def inner(data: Input[Dataset], n: int = 3) -> int:
    show(data=data, n=n)
    c = count(data=data)
    kubernetes.use_secret_as_env(c, secret_name="creds", secret_key_to_env={"token": "TOKEN"})
    return c.outputs["n"]

@dsl.pipeline(name="middle")
def middle(text: str) -> int:
    m = make(text=text)
    i = inner(data=m.outputs["out"], n=5)
    return i.output

@dsl.pipeline(name="outer")
def pipeline(text: str = "hi", flag: bool = True):
    m = make(text=text)
    i = inner(data=m.outputs["out"])
    i2 = inner(data=m.outputs["out"], n=i.output)
    with dsl.If(flag == True):
        mid = middle(text=text)
        show(data=m.outputs["out"], n=mid.output)
    show(data=m.outputs["out"], n=i2.output)
"##;
    let inner = inner();
    let mut middle = Pipeline::new("middle");
    let text = middle.parameter("text", ParameterType::String);
    let m = middle.add(make().task().arg("text", &text));
    let i = middle.add(inner.task().arg("data", m.output("out")).arg("n", 5));
    middle.output("Output", i.output("Output"));

    let mut p = Pipeline::new("outer");
    let text = p.parameter_with_default("text", ParameterType::String, "hi");
    let flag = p.parameter_with_default("flag", ParameterType::Boolean, true);
    let m = p.add(make().task().arg("text", &text));
    let i = p.add(inner.task().arg("data", m.output("out")));
    let i2 = p.add(
        inner
            .task()
            .arg("data", m.output("out"))
            .arg("n", i.output("Output")),
    );
    p.condition(Condition::eq(&flag, true), |p| {
        let mid = p.add(middle.task().arg("text", &text));
        p.add(
            show()
                .task()
                .arg("data", m.output("out"))
                .arg("n", mid.output("Output")),
        );
    });
    p.add(
        show()
            .task()
            .arg("data", m.output("out"))
            .arg("n", i2.output("Output")),
    );
    assert_same_ir_modulo_names(python, &p)
}

#[test]
fn nested_pipeline_errors_name_the_task() {
    let mut broken = Pipeline::new("broken");
    broken.add(show().task().arg("n", 1));
    let mut p = Pipeline::new("outer");
    p.add(broken.task());
    let err = p.compile().unwrap_err();
    assert!(
        matches!(&err, DslError::InNestedPipeline { task, error }
            if task == "broken" && matches!(**error, DslError::MissingInput { .. })),
        "{err}"
    );

    let mut p = Pipeline::new("outer");
    p.add(inner().task());
    let err = p.compile().unwrap_err();
    assert!(
        matches!(err, DslError::MissingInput { ref input, .. } if input == "data"),
        "{err}"
    );

    let mut p = Pipeline::new("outer");
    let m = p.add(make().task().arg("text", "x"));
    p.add(inner().task().arg("data", m.output("out")).cpu_limit("1"));
    let err = p.compile().unwrap_err();
    assert!(matches!(err, DslError::NotSupported { .. }), "{err}");

    let mut p = Pipeline::new("outer");
    let m = p.add(make().task().arg("text", "x"));
    let i = p.add(inner().task().arg("data", m.output("out")));
    p.add(
        show()
            .task()
            .arg("data", m.output("out"))
            .arg("n", i.output("nope")),
    );
    let err = p.compile().unwrap_err();
    assert!(
        matches!(err, DslError::UnknownOutput { ref known, .. } if known == "Output"),
        "{err}"
    );

    let mut p = Pipeline::new("outer");
    let m = p.add(make().task().arg("text", "x"));
    p.add(
        inner()
            .task()
            .arg("data", m.output("out"))
            .arg("n", "three"),
    );
    let err = p.compile().unwrap_err();
    assert!(matches!(err, DslError::TypeMismatch { .. }), "{err}");
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn nested_pipeline_in_a_loop_with_groups_inside() -> TestResult {
    let python = r##"
from kfp import dsl

@dsl.container_component
def say(msg: str, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "$0" | tee "$1"'], args=[msg, out])

@dsl.pipeline(name="greet")
def greet(name: str, loud: bool = False) -> str:
    with dsl.If(loud == True):
        say(msg=name)
    s = say(msg="hello")
    return s.outputs["out"]

@dsl.pipeline(name="outer")
def pipeline(names: list = ["a", "b"]):
    first = say(msg="start")
    with dsl.ParallelFor(names, parallelism=1) as n:
        g = greet(name=n, loud=True).after(first)
        with dsl.If(n == "a"):
            say(msg=g.output)
    greet(name="end")
"##;
    let say = ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .output("out", ParameterType::String)
        .command(["sh", "-c", r#"echo "$0" | tee "$1""#])
        .args([Placeholder::input("msg"), Placeholder::output_file("out")]);
    let mut greet = Pipeline::new("greet");
    let name = greet.parameter("name", ParameterType::String);
    let loud = greet.parameter_with_default("loud", ParameterType::Boolean, false);
    greet.condition(Condition::eq(&loud, true), |p| {
        p.add(say.task().arg("msg", &name));
    });
    let s = greet.add(say.task().arg("msg", "hello"));
    greet.output("Output", s.output("out"));

    let mut p = Pipeline::new("outer");
    let names =
        p.parameter_with_default("names", ParameterType::List, serde_json::json!(["a", "b"]));
    let first = p.add(say.task().arg("msg", "start"));
    p.parallel_for(&names, ParameterType::String, Some(1), |p, n| {
        let g = p.add(greet.task().arg("name", &n).arg("loud", true).after(&first));
        p.condition(Condition::eq(&n, "a"), |p| {
            p.add(say.task().arg("msg", g.output("Output")));
        });
    });
    p.add(greet.task().arg("name", "end"));
    assert_same_ir_modulo_names(python, &p)
}

/// `producer(flag: bool = True) -> NamedTuple(datasets=List[Dataset], counts=List[int], msg=str)`:
/// outputs collected from a loop and chosen by an if / else chain.
fn producer() -> Pipeline {
    let make = ContainerComponent::new("make", "alpine")
        .input("seed", ParameterType::NumberInteger)
        .output_artifact("out", artifact::dataset())
        .output("n", ParameterType::NumberInteger)
        .command(["sh", "-c", r#"echo "$0" > "$1""#])
        .args([
            Placeholder::input("seed"),
            Placeholder::output_path("out"),
            Placeholder::output_file("n"),
        ]);
    let say = ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .output("out", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg"), Placeholder::output_file("out")]);
    let mut p = Pipeline::new("pout");
    let flag = p.parameter_with_default("flag", ParameterType::Boolean, true);
    let m = p.parallel_for_items(vec![1.into(), 2.into()], None, |p, seed| {
        p.add(make.task().arg("seed", seed))
    });
    let (a, b) = p.branches(|b| {
        let a = b.if_(Condition::eq(&flag, true), |p| {
            p.add(say.task().arg("msg", "yes"))
        });
        let no = b.else_(|p| p.add(say.task().arg("msg", "no")));
        (a, no)
    });
    let msg = p.one_of([a.output("out"), b.output("out")]);
    p.output("datasets", m.collected("out"));
    p.output("counts", m.collected("n"));
    p.output("msg", msg);
    p
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn pipeline_outputs_from_loops_and_branches() -> TestResult {
    let python = r##"
from typing import NamedTuple
from typing import List
from kfp import dsl
from kfp.dsl import Dataset, Input

@dsl.container_component
def make(seed: int, out: dsl.Output[dsl.Dataset], n: dsl.OutputPath(int)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "$0" > "$1"'], args=[seed, out.path, n])

@dsl.container_component
def say(msg: str, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg, out])

@dsl.pipeline(name="pout")
def pipeline(flag: bool = True) -> NamedTuple("Outputs", datasets=List[Dataset], counts=List[int], msg=str):
    with dsl.ParallelFor([1, 2]) as seed:
        m = make(seed=seed)
    with dsl.If(flag == True):
        a = say(msg="yes")
    with dsl.Else():
        b = say(msg="no")
    Outputs = NamedTuple("Outputs", datasets=List[Dataset], counts=List[int], msg=str)
    return Outputs(datasets=dsl.Collected(m.outputs["out"]), counts=dsl.Collected(m.outputs["n"]), msg=dsl.OneOf(a.output, b.output))
"##;
    assert_same_ir(python, &producer())
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn nested_pipeline_with_collected_and_one_of_outputs() -> TestResult {
    let python = r##"
from typing import NamedTuple
from typing import List
from kfp import dsl
from kfp.dsl import Dataset, Input

@dsl.container_component
def make(seed: int, out: dsl.Output[dsl.Dataset], n: dsl.OutputPath(int)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "$0" > "$1"'], args=[seed, out.path, n])

@dsl.container_component
def say(msg: str, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg, out])

@dsl.pipeline(name="pout")
def producer(flag: bool = True) -> NamedTuple("Outputs", datasets=List[Dataset], counts=List[int], msg=str):
    with dsl.ParallelFor([1, 2]) as seed:
        m = make(seed=seed)
    with dsl.If(flag == True):
        a = say(msg="yes")
    with dsl.Else():
        b = say(msg="no")
    Outputs = NamedTuple("Outputs", datasets=List[Dataset], counts=List[int], msg=str)
    return Outputs(datasets=dsl.Collected(m.outputs["out"]), counts=dsl.Collected(m.outputs["n"]), msg=dsl.OneOf(a.output, b.output))

@dsl.container_component
def consume(data: dsl.Input[List[dsl.Dataset]], counts: list, msg: str):
    return dsl.ContainerSpec(image="alpine", command=["ls"], args=[counts, msg])

@dsl.pipeline(name="outer")
def pipeline():
    p = producer(flag=False)
    consume(data=p.outputs["datasets"], counts=p.outputs["counts"], msg=p.outputs["msg"])
"##;
    let consume = ContainerComponent::new("consume", "alpine")
        .input_artifact_list("data", artifact::dataset())
        .input("counts", ParameterType::List)
        .input("msg", ParameterType::String)
        .command(["ls"])
        .args([Placeholder::input("counts"), Placeholder::input("msg")]);
    let inner = producer();
    let mut p = Pipeline::new("outer");
    let made = p.add(inner.task().arg("flag", false));
    p.add(
        consume
            .task()
            .arg("data", made.output("datasets"))
            .arg("counts", made.output("counts"))
            .arg("msg", made.output("msg")),
    );
    assert_same_ir_modulo_names(python, &p)
}
