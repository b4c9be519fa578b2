//! The Rust DSL compiles to the same IR as the official KFP compiler: each pipeline is built in
//! Python (compiled at test time with `kfp` from the test environment's venv) and in Rust, and the
//! two documents must be equal apart from `sdkVersion`.

use kubeflow_pipelines::dsl::{
    Condition, ContainerComponent, Importer, Pipeline, Placeholder, Retry, Toleration, artifact,
};
use kubeflow_pipelines::spec::ParameterType;

mod pipelines_ir_equal_support;
use pipelines_ir_equal_support::{TestResult, assert_same_ir};

const IGNORE: &str = "needs the real servers started by scripts/test";

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn two_step_container_pipeline() -> TestResult {
    let _ = IGNORE;
    let python = r#"
from kfp import dsl

@dsl.container_component
def producer(text: str, out: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'mkdir -p $(dirname "$1") && echo "$0" > "$1"'], args=[text, out.path])

@dsl.container_component
def consumer(data: dsl.Input[dsl.Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["cat"], args=[data.path])

@dsl.pipeline(name="two-step")
def pipeline(text: str = "hi"):
    p = producer(text=text)
    consumer(data=p.outputs["out"])
"#;
    let producer = ContainerComponent::new("producer", "alpine")
        .input("text", ParameterType::String)
        .output_artifact("out", artifact::dataset())
        .command([
            "sh",
            "-c",
            r#"mkdir -p $(dirname "$1") && echo "$0" > "$1""#,
        ])
        .args([Placeholder::input("text"), Placeholder::output_path("out")]);
    let consumer = ContainerComponent::new("consumer", "alpine")
        .input_artifact("data", artifact::dataset())
        .command(["cat"])
        .args([Placeholder::input_path("data")]);
    let mut p = Pipeline::new("two-step");
    let text = p.parameter_with_default("text", ParameterType::String, "hi");
    let first = p.add(producer.task().arg("text", &text));
    p.add(consumer.task().arg("data", first.output("out")));
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn artifact_and_parameter_passing() -> TestResult {
    let python = r#"
from kfp import dsl

@dsl.container_component
def make_data(rows: int, data: dsl.Output[dsl.Dataset], count: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="python:3.12", command=["make-data"], args=[rows, data.path, data.uri, count])

@dsl.container_component
def train(data: dsl.Input[dsl.Dataset], count: str, lr: float, model: dsl.Output[dsl.Model], note: str = "none"):
    return dsl.ContainerSpec(image="python:3.12", command=["train"], args=[
        "--data", data.path, "--uri", data.uri, "--meta", data.metadata, "--count", count, "--lr", lr,
        "--model", model.path, model.uri,
        dsl.ConcatPlaceholder(["note=", note]),
        dsl.IfPresentPlaceholder(input_name="note", then=["--note", note], else_=["--no-note"]),
        dsl.IfPresentPlaceholder(input_name="note", then=[dsl.ConcatPlaceholder(["n:", note])]),
    ])

@dsl.pipeline(name="artifacts", description="passes artifacts\nand parameters")
def pipeline(rows: int = 10, lr: float = 0.1):
    m = make_data(rows=rows)
    t = train(data=m.outputs["data"], count=m.outputs["count"], lr=lr)
    t2 = train(data=m.outputs["data"], count="5", lr=0.5, note="x").after(t)
    t2.set_display_name("second train")
"#;
    let make_data = ContainerComponent::new("make_data", "python:3.12")
        .input("rows", ParameterType::NumberInteger)
        .output_artifact("data", artifact::dataset())
        .output("count", ParameterType::String)
        .command(["make-data"])
        .args([
            Placeholder::input("rows"),
            Placeholder::output_path("data"),
            Placeholder::output_uri("data"),
            Placeholder::output_file("count"),
        ]);
    let train = ContainerComponent::new("train", "python:3.12")
        .input_artifact("data", artifact::dataset())
        .input("count", ParameterType::String)
        .input("lr", ParameterType::NumberDouble)
        .output_artifact("model", artifact::model())
        .input_with_default("note", ParameterType::String, "none")
        .command(["train"])
        .args([
            Placeholder::from("--data"),
            Placeholder::input_path("data"),
            "--uri".into(),
            Placeholder::input_uri("data"),
            "--meta".into(),
            Placeholder::input_metadata("data"),
            "--count".into(),
            Placeholder::input("count"),
            "--lr".into(),
            Placeholder::input("lr"),
            "--model".into(),
            Placeholder::output_path("model"),
            Placeholder::output_uri("model"),
            Placeholder::concat([Placeholder::from("note="), Placeholder::input("note")]),
            Placeholder::if_present(
                "note",
                [Placeholder::from("--note"), Placeholder::input("note")],
                Some(vec!["--no-note".into()]),
            ),
            Placeholder::if_present(
                "note",
                [Placeholder::concat([
                    Placeholder::from("n:"),
                    Placeholder::input("note"),
                ])],
                None,
            ),
        ]);
    let mut p = Pipeline::new("artifacts").description("passes artifacts\nand parameters");
    let rows = p.parameter_with_default("rows", ParameterType::NumberInteger, 10);
    let lr = p.parameter_with_default("lr", ParameterType::NumberDouble, 0.1);
    let m = p.add(make_data.task().arg("rows", &rows));
    let t = p.add(
        train
            .task()
            .arg("data", m.output("data"))
            .arg("count", m.output("count"))
            .arg("lr", &lr),
    );
    p.add(
        train
            .task()
            .arg("data", m.output("data"))
            .arg("count", "5")
            .arg("lr", 0.5)
            .arg("note", "x")
            .after(&t)
            .display_name("second train"),
    );
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn resources_retry_and_caching() -> TestResult {
    let python = r#"
from kfp import dsl

@dsl.container_component
def work(msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg])

@dsl.pipeline(name="resources")
def pipeline():
    a = work(msg="a")
    a.set_cpu_limit("2").set_memory_limit("4G").set_cpu_request("500m").set_memory_request("512Mi")
    a.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    a.set_retry(num_retries=3, backoff_duration="60s", backoff_factor=1.5, backoff_max_duration="600s")
    a.set_caching_options(False)
    a.set_env_variable("MODE", "fast")
    b = work(msg="b")
    b.set_retry(num_retries=2)
    b.set_memory_limit("1Gi")
"#;
    let work = ContainerComponent::new("work", "alpine")
        .input("msg", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg")]);
    let mut p = Pipeline::new("resources");
    p.add(
        work.task()
            .arg("msg", "a")
            .cpu_limit("2")
            .memory_limit("4G")
            .cpu_request("500m")
            .memory_request("512Mi")
            .accelerator_type("nvidia.com/gpu")
            .accelerator_limit(1)
            .retry(
                Retry::times(3)
                    .backoff("60s")
                    .factor(1.5)
                    .max_backoff("600s"),
            )
            .caching(false)
            .env("MODE", "fast"),
    );
    p.add(
        work.task()
            .arg("msg", "b")
            .retry(Retry::times(2))
            .memory_limit("1Gi"),
    );
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn importer() -> TestResult {
    let python = r#"
from kfp import dsl

@dsl.container_component
def use(data: dsl.Input[dsl.Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["cat"], args=[data.path])

@dsl.pipeline(name="importer")
def pipeline(uri: str = "gs://bucket/data.csv"):
    a = dsl.importer(artifact_uri=uri, artifact_class=dsl.Dataset, reimport=False, metadata={"k": "v", "n": 1})
    use(data=a.output)
    b = dsl.importer(artifact_uri="gs://bucket/model", artifact_class=dsl.Model, reimport=True)
"#;
    let use_data = ContainerComponent::new("use", "alpine")
        .input_artifact("data", artifact::dataset())
        .command(["cat"])
        .args([Placeholder::input_path("data")]);
    let mut p = Pipeline::new("importer");
    let uri = p.parameter_with_default("uri", ParameterType::String, "gs://bucket/data.csv");
    let a = p.add(
        Importer::new(artifact::dataset())
            .metadata("k", "v")
            .metadata("n", 1)
            .task(&uri),
    );
    p.add(use_data.task().arg("data", a.output("artifact")));
    p.add(
        Importer::new(artifact::model())
            .reimport(true)
            .task("gs://bucket/model"),
    );
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn condition_with_elif_and_else() -> TestResult {
    let python = r#"
from kfp import dsl

@dsl.container_component
def flip(result: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", "echo heads > $0"], args=[result])

@dsl.container_component
def say(msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg])

@dsl.pipeline(name="condition")
def pipeline(threshold: int = 3, name: str = "x"):
    f = flip()
    with dsl.If(f.outputs["result"] == "heads"):
        say(msg=name)
    with dsl.Elif(f.outputs["result"] == "tails"):
        say(msg="tails")
    with dsl.Else():
        say(msg=f.outputs["result"])
    with dsl.If(threshold > 2.5):
        with dsl.If(name != "y"):
            say(msg=f.outputs["result"])
"#;
    let flip = ContainerComponent::new("flip", "alpine")
        .output("result", ParameterType::String)
        .command(["sh", "-c", "echo heads > $0"])
        .args([Placeholder::output_file("result")]);
    let say = ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg")]);
    let mut p = Pipeline::new("condition");
    let threshold = p.parameter_with_default("threshold", ParameterType::NumberInteger, 3);
    let name = p.parameter_with_default("name", ParameterType::String, "x");
    let f = p.add(flip.task());
    p.branches(|b| {
        b.if_(Condition::eq(f.output("result"), "heads"), |p| {
            p.add(say.task().arg("msg", &name));
        });
        b.elif(Condition::eq(f.output("result"), "tails"), |p| {
            p.add(say.task().arg("msg", "tails"));
        });
        b.else_(|p| {
            p.add(say.task().arg("msg", f.output("result")));
        });
    });
    p.condition(Condition::gt(&threshold, 2.5), |p| {
        p.condition(Condition::ne(&name, "y"), |p| {
            p.add(say.task().arg("msg", f.output("result")));
        });
    });
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn exit_handler() -> TestResult {
    let python = r#"
from kfp import dsl

@dsl.container_component
def say(msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg])

@dsl.container_component
def cleanup(status: dsl.PipelineTaskFinalStatus, msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg, status])

@dsl.pipeline(name="exit")
def pipeline(msg: str = "hi"):
    c = cleanup(msg="bye")
    with dsl.ExitHandler(c, name="main"):
        first = say(msg=msg)
        say(msg="two").after(first)
"#;
    let say = ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg")]);
    let cleanup = ContainerComponent::new("cleanup", "alpine")
        .input("status", ParameterType::TaskFinalStatus)
        .input("msg", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg"), Placeholder::input("status")]);
    let mut p = Pipeline::new("exit");
    let msg = p.parameter_with_default("msg", ParameterType::String, "hi");
    p.exit_handler(cleanup.task().arg("msg", "bye"), Some("main"), |p| {
        let first = p.add(say.task().arg("msg", &msg));
        p.add(say.task().arg("msg", "two").after(&first));
    });
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn parallel_for_with_fan_in() -> TestResult {
    let python = r#"
from typing import List
from kfp import dsl

@dsl.container_component
def square(x: int, out: dsl.OutputPath(int)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", "echo $(($0*$0)) > $1"], args=[x, out])

@dsl.container_component
def total(xs: List[int]):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[xs])

@dsl.container_component
def make(x: int, y: str, out: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["make"], args=[x, out.path, y])

@dsl.container_component
def merge(parts: dsl.Input[List[dsl.Dataset]]):
    return dsl.ContainerSpec(image="alpine", command=["merge"])

@dsl.pipeline(name="loops")
def pipeline(nums: List[int] = [1, 2], y: str = "a"):
    with dsl.ParallelFor([1, 2, 3], parallelism=2) as x:
        s = square(x=x)
    total(xs=dsl.Collected(s.outputs["out"]))
    with dsl.ParallelFor(nums) as n:
        m = make(x=n, y=y)
    merge(parts=dsl.Collected(m.outputs["out"]))
"#;
    let square = ContainerComponent::new("square", "alpine")
        .input("x", ParameterType::NumberInteger)
        .output("out", ParameterType::NumberInteger)
        .command(["sh", "-c", "echo $(($0*$0)) > $1"])
        .args([Placeholder::input("x"), Placeholder::output_file("out")]);
    let total = ContainerComponent::new("total", "alpine")
        .input("xs", ParameterType::List)
        .command(["echo"])
        .args([Placeholder::input("xs")]);
    let make = ContainerComponent::new("make", "alpine")
        .input("x", ParameterType::NumberInteger)
        .input("y", ParameterType::String)
        .output_artifact("out", artifact::dataset())
        .command(["make"])
        .args([
            Placeholder::input("x"),
            Placeholder::output_path("out"),
            Placeholder::input("y"),
        ]);
    let merge = ContainerComponent::new("merge", "alpine")
        .input_artifact_list("parts", artifact::dataset())
        .command(["merge"]);
    let mut p = Pipeline::new("loops");
    let nums = p.parameter_with_default("nums", ParameterType::List, serde_json::json!([1, 2]));
    let y = p.parameter_with_default("y", ParameterType::String, "a");
    let s = p.parallel_for_items(vec![1.into(), 2.into(), 3.into()], Some(2), |p, x| {
        p.add(square.task().arg("x", x))
    });
    p.add(total.task().arg("xs", s.collected("out")));
    let m = p.parallel_for(&nums, ParameterType::NumberInteger, None, |p, n| {
        p.add(make.task().arg("x", n).arg("y", &y))
    });
    p.add(merge.task().arg("parts", m.collected("out")));
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn kubernetes_secrets_pvcs_and_scheduling() -> TestResult {
    let python = r#"
from kfp import dsl, kubernetes

@dsl.container_component
def say(msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg])

@dsl.container_component
def name_out(name: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", "echo s > $0"], args=[name])

@dsl.pipeline(name="k8s")
def pipeline(secret_name: str = "db", pvc: str = "data"):
    n = name_out()
    t = say(msg="a")
    kubernetes.use_secret_as_env(t, secret_name="creds", secret_key_to_env={"user": "USER", "pass": "PASS"})
    kubernetes.use_secret_as_env(t, secret_name=secret_name, secret_key_to_env={"k": "K"}, optional=True)
    kubernetes.use_secret_as_volume(t, secret_name="certs", mount_path="/certs")
    kubernetes.use_secret_as_volume(t, secret_name=n.outputs["name"], mount_path="/n")
    kubernetes.mount_pvc(t, pvc_name="shared", mount_path="/data")
    kubernetes.mount_pvc(t, pvc_name=pvc, mount_path="/p")
    kubernetes.add_node_selector(t, label_key="gpu", label_value="a100")
    kubernetes.add_toleration(t, key="gpu", operator="Exists", effect="NoSchedule")
    kubernetes.add_toleration(t, key="k", operator="Equal", value="v", effect="NoExecute", toleration_seconds=30)
    kubernetes.set_image_pull_secrets(t, ["regcred"])
    kubernetes.add_pod_label(t, "team", "ml")
    kubernetes.add_pod_annotation(t, "note", "x")
    kubernetes.set_timeout(t, 600)
    kubernetes.use_field_path_as_env(t, env_name="POD", field_path="metadata.name")
    kubernetes.use_config_map_as_env(t, config_map_name="cm", config_map_key_to_env={"a": "A"})
    kubernetes.use_config_map_as_volume(t, config_map_name="cm2", mount_path="/cm")
    kubernetes.set_image_pull_policy(t, "Always")
"#;
    let say = ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg")]);
    let name_out = ContainerComponent::new("name_out", "alpine")
        .output("name", ParameterType::String)
        .command(["sh", "-c", "echo s > $0"])
        .args([Placeholder::output_file("name")]);
    let mut p = Pipeline::new("k8s");
    let secret_name = p.parameter_with_default("secret_name", ParameterType::String, "db");
    let pvc = p.parameter_with_default("pvc", ParameterType::String, "data");
    let n = p.add(name_out.task());
    p.add(
        say.task()
            .arg("msg", "a")
            .secret_as_env("creds", [("user", "USER"), ("pass", "PASS")], false)
            .secret_as_env(&secret_name, [("k", "K")], true)
            .secret_as_volume("certs", "/certs", false)
            .secret_as_volume(n.output("name"), "/n", false)
            .mount_pvc("shared", "/data")
            .mount_pvc(&pvc, "/p")
            .node_selector("gpu", "a100")
            .toleration(Toleration::exists("gpu").effect("NoSchedule"))
            .toleration(Toleration::equal("k", "v").effect("NoExecute").seconds(30))
            .image_pull_secret("regcred")
            .pod_label("team", "ml")
            .pod_annotation("note", "x")
            .timeout_seconds(600)
            .field_path_as_env("POD", "metadata.name")
            .config_map_as_env("cm", [("a", "A")], false)
            .config_map_as_volume("cm2", "/cm", false)
            .image_pull_policy("Always"),
    );
    assert_same_ir(python, &p)
}

const SAY_COMPONENT: &str = r#"# PIPELINE DEFINITION
# Name: say
components:
  comp-say:
    executorLabel: exec-say
    inputDefinitions:
      parameters:
        msg:
          parameterType: STRING
        n:
          defaultValue: 3.0
          isOptional: true
          parameterType: NUMBER_INTEGER
    outputDefinitions:
      artifacts:
        out:
          artifactType:
            schemaTitle: system.Dataset
            schemaVersion: 0.0.1
deploymentSpec:
  executors:
    exec-say:
      container:
        args:
        - '{{$.inputs.parameters[''msg'']}}'
        - '{{$.inputs.parameters[''n'']}}'
        - '{{$.outputs.artifacts[''out''].path}}'
        - '{"IfPresent": {"InputName": "n", "Then": ["--n", "{{$.inputs.parameters[''n'']}}"]}}'
        command:
        - echo
        image: alpine
pipelineInfo:
  name: say
root:
  dag:
    tasks:
      say:
        componentRef:
          name: comp-say
        inputs:
          parameters:
            msg:
              componentInputParameter: msg
            n:
              componentInputParameter: n
        taskInfo:
          name: say
  inputDefinitions:
    parameters:
      msg:
        parameterType: STRING
      n:
        defaultValue: 3.0
        isOptional: true
        parameterType: NUMBER_INTEGER
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.3
"#;

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn component_loaded_from_yaml() -> TestResult {
    let python = format!(
        r#"
from kfp import dsl, components

say = components.load_component_from_text({SAY_COMPONENT:?})

@dsl.pipeline(name="loaded")
def pipeline():
    a = say(msg="hi")
    say(msg="again", n=5).after(a)
"#
    );
    let say = ContainerComponent::from_yaml_str(SAY_COMPONENT)?;
    let mut p = Pipeline::new("loaded");
    let a = p.add(say.task().arg("msg", "hi"));
    p.add(say.task().arg("msg", "again").arg("n", 5).after(&a));
    assert_same_ir(&python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn pipeline_outputs() -> TestResult {
    let python = r#"
from typing import NamedTuple
from kfp import dsl

@dsl.container_component
def train(model: dsl.Output[dsl.Model], score: dsl.OutputPath(float)):
    return dsl.ContainerSpec(image="alpine", command=["train"], args=[model.path, score])

@dsl.pipeline(name="outputs")
def pipeline() -> NamedTuple("Outputs", [("model", dsl.Model), ("score", float)]):
    t = train()
    Outputs = NamedTuple("Outputs", [("model", dsl.Model), ("score", float)])
    return Outputs(model=t.outputs["model"], score=t.outputs["score"])
"#;
    let train = ContainerComponent::new("train", "alpine")
        .output_artifact("model", artifact::model())
        .output("score", ParameterType::NumberDouble)
        .command(["train"])
        .args([
            Placeholder::output_path("model"),
            Placeholder::output_file("score"),
        ]);
    let mut p = Pipeline::new("outputs");
    let t = p.add(train.task());
    p.output("model", t.output("model"));
    p.output("score", t.output("score"));
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn nested_groups_thread_channels() -> TestResult {
    let python = r#"
from typing import List
from kfp import dsl

@dsl.container_component
def flip(side: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["flip"], args=[side])

@dsl.container_component
def say(msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg])

@dsl.container_component
def pair(a: str, b: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[a, b])

@dsl.container_component
def cleanup(status: dsl.PipelineTaskFinalStatus):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[status])

@dsl.pipeline(name="nested")
def pipeline(prefix: str = "p", names: List[str] = ["x", "y"], limit: float = 1.5):
    with dsl.ExitHandler(cleanup()):
        f = flip()
        with dsl.If(f.outputs["side"] == "heads"):
            with dsl.ParallelFor(["a", "b"], parallelism=2) as item:
                pair(a=item, b=prefix)
                with dsl.If(limit > 1):
                    pair(a=f.outputs["side"], b=item)
        with dsl.ParallelFor(names) as name:
            with dsl.ParallelFor([1, 2]) as inner:
                pair(a=name, b=f.outputs["side"])
        say(msg=prefix).after(f)
"#;
    let flip = ContainerComponent::new("flip", "alpine")
        .output("side", ParameterType::String)
        .command(["flip"])
        .args([Placeholder::output_file("side")]);
    let say = ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg")]);
    let pair = ContainerComponent::new("pair", "alpine")
        .input("a", ParameterType::String)
        .input("b", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("a"), Placeholder::input("b")]);
    let cleanup = ContainerComponent::new("cleanup", "alpine")
        .input("status", ParameterType::TaskFinalStatus)
        .command(["echo"])
        .args([Placeholder::input("status")]);
    let mut p = Pipeline::new("nested");
    let prefix = p.parameter_with_default("prefix", ParameterType::String, "p");
    let names =
        p.parameter_with_default("names", ParameterType::List, serde_json::json!(["x", "y"]));
    let limit = p.parameter_with_default("limit", ParameterType::NumberDouble, 1.5);
    p.exit_handler(cleanup.task(), None, |p| {
        let f = p.add(flip.task());
        p.condition(Condition::eq(f.output("side"), "heads"), |p| {
            p.parallel_for_items(vec!["a".into(), "b".into()], Some(2), |p, item| {
                p.add(pair.task().arg("a", &item).arg("b", &prefix));
                p.condition(Condition::gt(&limit, 1), |p| {
                    p.add(pair.task().arg("a", f.output("side")).arg("b", &item));
                });
            });
        });
        p.parallel_for(&names, ParameterType::String, None, |p, name| {
            p.parallel_for_items(vec![1.into(), 2.into()], None, |p, _inner| {
                p.add(pair.task().arg("a", &name).arg("b", f.output("side")));
            });
        });
        p.add(say.task().arg("msg", &prefix).after(&f));
    });
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn one_of_after_if_else() -> TestResult {
    let python = r#"
from kfp import dsl

@dsl.container_component
def flip(side: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["flip"], args=[side])

@dsl.container_component
def say(msg: str, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg, out])

@dsl.container_component
def make(d: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["make"], args=[d.path])

@dsl.container_component
def use(d: dsl.Input[dsl.Dataset], m: str):
    return dsl.ContainerSpec(image="alpine", command=["use"], args=[d.path, m])

@dsl.pipeline(name="oneof")
def pipeline():
    f = flip()
    with dsl.If(f.outputs["side"] == "heads"):
        a = say(msg="h")
        ma = make()
    with dsl.Else():
        b = say(msg="t")
        mb = make()
    use(d=dsl.OneOf(ma.outputs["d"], mb.outputs["d"]), m=dsl.OneOf(a.outputs["out"], b.outputs["out"]))
"#;
    let flip = ContainerComponent::new("flip", "alpine")
        .output("side", ParameterType::String)
        .command(["flip"])
        .args([Placeholder::output_file("side")]);
    let say = ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .output("out", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg"), Placeholder::output_file("out")]);
    let make = ContainerComponent::new("make", "alpine")
        .output_artifact("d", artifact::dataset())
        .command(["make"])
        .args([Placeholder::output_path("d")]);
    let use_both = ContainerComponent::new("use", "alpine")
        .input_artifact("d", artifact::dataset())
        .input("m", ParameterType::String)
        .command(["use"])
        .args([Placeholder::input_path("d"), Placeholder::input("m")]);
    let mut p = Pipeline::new("oneof");
    let f = p.add(flip.task());
    let ((a, ma), (b, mb)) = p.branches(|br| {
        let heads = br.if_(Condition::eq(f.output("side"), "heads"), |p| {
            (p.add(say.task().arg("msg", "h")), p.add(make.task()))
        });
        let tails = br.else_(|p| (p.add(say.task().arg("msg", "t")), p.add(make.task())));
        (heads, tails)
    });
    let data = p.one_of([ma.output("d"), mb.output("d")]);
    let message = p.one_of([a.output("out"), b.output("out")]);
    p.add(use_both.task().arg("d", data).arg("m", message));
    assert_same_ir(python, &p)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn loop_item_fields() -> TestResult {
    let python = r#"
from typing import List
from kfp import dsl

@dsl.container_component
def pair(a: str, b: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[a, b])

@dsl.pipeline(name="fields")
def pipeline(items: List[dict] = [{"a": "x", "b": "1"}], go: bool = True):
    with dsl.ParallelFor([{"a": "y", "b": "2"}, {"a": "z", "b": "3"}]) as item:
        pair(a=item.a, b=item.b)
    with dsl.ParallelFor(items) as it:
        with dsl.If(go == True):
            pair(a=it.a, b="c")
"#;
    let pair = ContainerComponent::new("pair", "alpine")
        .input("a", ParameterType::String)
        .input("b", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("a"), Placeholder::input("b")]);
    let mut p = Pipeline::new("fields");
    let items = p.parameter_with_default(
        "items",
        ParameterType::List,
        serde_json::json!([{"a": "x", "b": "1"}]),
    );
    let go = p.parameter_with_default("go", ParameterType::Boolean, true);
    p.parallel_for_items(
        vec![
            serde_json::json!({"a": "y", "b": "2"}),
            serde_json::json!({"a": "z", "b": "3"}),
        ],
        None,
        |p, item| {
            p.add(
                pair.task()
                    .arg("a", item.field("a"))
                    .arg("b", item.field("b")),
            );
        },
    );
    p.parallel_for(&items, ParameterType::Struct, None, |p, it| {
        p.condition(Condition::eq(&go, true), |p| {
            p.add(pair.task().arg("a", it.field("a")).arg("b", "c"));
        });
    });
    assert_same_ir(python, &p)
}
