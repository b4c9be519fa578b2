//! kfp-kubernetes volumes and scheduling (CreatePVC / mount_pvc / DeletePVC, node affinity,
//! empty dirs, ephemeral volumes, security context) and loops over lists of artifacts compile to the same IR as the official compiler.
//!
//! Deviation, on purpose: the official `CreatePVC` and `DeletePVC` components carry
//! kfp-kubernetes' docstrings as input descriptions; ours carry none (we do not copy that
//! text), so `description` fields of those two components are removed from the official
//! document before comparing. Everything else is compared as written.

use kubeflow_pipelines::dsl::{
    ContainerComponent, DslError, EmptyDir, EphemeralVolume, NodeAffinity, Pipeline, Placeholder,
    SecurityContext, artifact,
};
use kubeflow_pipelines::spec::ParameterType;
use serde_json::{Value, json};

mod pipelines_ir_equal_support;
use pipelines_ir_equal_support::{TestResult, assert_same_ir, assert_same_ir_normalized};

fn say() -> ContainerComponent {
    ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .command(["echo"])
        .args([Placeholder::input("msg")])
}

/// Removes the input descriptions of `comp-createpvc` and `comp-deletepvc`.
fn without_pvc_descriptions(documents: &mut Value) {
    for component in ["comp-createpvc", "comp-deletepvc"] {
        let pointer = format!("/0/components/{component}/inputDefinitions/parameters");
        if let Some(parameters) = documents
            .pointer_mut(&pointer)
            .and_then(Value::as_object_mut)
        {
            for parameter in parameters.values_mut() {
                if let Some(parameter) = parameter.as_object_mut() {
                    parameter.remove("description");
                }
            }
        }
    }
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn pvc_lifecycle_and_node_affinity() -> TestResult {
    let python = r##"
from typing import List
from kfp import dsl, kubernetes
from kfp.dsl import Input, Dataset

@dsl.container_component
def say(msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg])

@dsl.pipeline(name="pvc")
def pipeline(size: str = "5Gi", affinity: dict = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}):
    pvc = kubernetes.CreatePVC(pvc_name_suffix="-data", access_modes=["ReadWriteOnce"], size=size, storage_class_name="standard", annotations={"team": "ml"})
    t = say(msg="a")
    kubernetes.mount_pvc(t, pvc_name=pvc.outputs["name"], mount_path="/data")
    kubernetes.mount_pvc(t, pvc_name="static", mount_path="/static", sub_path="part")
    kubernetes.add_node_affinity(t, match_expressions=[{"key": "zone", "operator": "In", "values": ["a", "b"]}], weight=10)
    kubernetes.add_node_affinity(t, match_fields=[{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}], match_expressions=[{"key": "gpu", "operator": "Exists"}])
    t2 = say(msg="b")
    kubernetes.add_node_affinity_json(t2, {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 5, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]})
    t3 = say(msg="c")
    kubernetes.add_node_affinity_json(t3, affinity)
    kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(t)
"##;
    let mut p = Pipeline::new("pvc");
    let size = p.parameter_with_default("size", ParameterType::String, "5Gi");
    let affinity_default = json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}});
    let affinity = p.parameter_with_default("affinity", ParameterType::Struct, affinity_default);
    let pvc = p.add(
        ContainerComponent::create_pvc()
            .task()
            .arg("pvc_name_suffix", "-data")
            .arg("access_modes", json!(["ReadWriteOnce"]))
            .arg("size", &size)
            .arg("storage_class_name", "standard")
            .arg("annotations", json!({"team": "ml"})),
    );
    let t = p.add(
        say()
            .task()
            .arg("msg", "a")
            .mount_pvc(pvc.output("name"), "/data")
            .mount_pvc_sub_path("static", "/static", "part")
            .node_affinity(NodeAffinity::preferred(10).match_expression("zone", "In", ["a", "b"]))
            .node_affinity(
                NodeAffinity::required()
                    .match_field("metadata.name", "NotIn", ["n1"])
                    .match_expression("gpu", "Exists", Vec::<String>::new()),
            ),
    );
    p.add(say().task().arg("msg", "b").node_affinity_json(json!({
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 5, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}
        ]
    })));
    p.add(say().task().arg("msg", "c").node_affinity_json(&affinity));
    p.add(
        ContainerComponent::delete_pvc()
            .task()
            .arg("pvc_name", pvc.output("name"))
            .after(&t),
    );
    assert_same_ir_normalized(python, &p, without_pvc_descriptions)
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn parallel_for_over_collected_artifacts() -> TestResult {
    let python = r##"
from typing import List
from kfp import dsl
from kfp.dsl import Input, Output, Dataset, Model

@dsl.container_component
def make(seed: int, out: dsl.Output[dsl.Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "$0" > "$1"'], args=[seed, out.path])

@dsl.container_component
def show(data: dsl.Input[dsl.Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["cat"], args=[data.path])

@dsl.pipeline(name="inner")
def inner(datasets: Input[List[Dataset]]):
    with dsl.ParallelFor(datasets, parallelism=2) as d:
        show(data=d)

@dsl.pipeline(name="aloop")
def pipeline():
    with dsl.ParallelFor([1, 2, 3]) as seed:
        m = make(seed=seed)
    inner(datasets=dsl.Collected(m.outputs["out"]))
"##;
    let make = ContainerComponent::new("make", "alpine")
        .input("seed", ParameterType::NumberInteger)
        .output_artifact("out", artifact::dataset())
        .command(["sh", "-c", r#"echo "$0" > "$1""#])
        .args([Placeholder::input("seed"), Placeholder::output_path("out")]);
    let show = ContainerComponent::new("show", "alpine")
        .input_artifact("data", artifact::dataset())
        .command(["cat"])
        .args([Placeholder::input_path("data")]);
    let mut inner = Pipeline::new("inner");
    let datasets = inner.input_artifact_list("datasets", artifact::dataset());
    inner.parallel_for_artifacts(&datasets, Some(2), |p, d| {
        p.add(show.task().arg("data", d));
    });
    let mut p = Pipeline::new("aloop");
    let m = p.parallel_for_items(vec![1.into(), 2.into(), 3.into()], None, |p, seed| {
        p.add(make.task().arg("seed", seed))
    });
    p.add(inner.task().arg("datasets", m.collected("out")));
    assert_same_ir(python, &p)
}

#[test]
fn invalid_kubernetes_settings_and_artifact_loops_are_reported() {
    let compile = |affinity: NodeAffinity| {
        let mut p = Pipeline::new("p");
        p.add(say().task().arg("msg", "a").node_affinity(affinity));
        p.compile()
    };
    for (affinity, expected) in [
        (
            NodeAffinity::required().match_expression("zone", "Maybe", ["a"]),
            "operator \"Maybe\"",
        ),
        (
            NodeAffinity::preferred(0).match_expression("zone", "In", ["a"]),
            "between 1 and 100, got 0",
        ),
        (
            NodeAffinity::required().match_field("", "In", ["a"]),
            "has no key",
        ),
    ] {
        match compile(affinity) {
            Err(err @ DslError::InvalidKubernetesSetting { .. }) => {
                assert!(err.to_string().contains(expected), "{err}")
            }
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    let mut p = Pipeline::new("p");
    p.add(
        say()
            .task()
            .arg("msg", "a")
            .node_affinity_json(json!(["not", "an", "object"])),
    );
    assert!(matches!(
        p.compile(),
        Err(DslError::InvalidKubernetesSetting { .. })
    ));
    let mut p = Pipeline::new("p");
    p.add(
        say()
            .task()
            .arg("msg", "a")
            .toleration_json(json!({"key": "k", "toleration_seconds": "soon"})),
    );
    assert!(matches!(
        p.compile(),
        Err(DslError::InvalidKubernetesSetting { .. })
    ));

    // A loop over something that is not an input artifact list.
    let mut p = Pipeline::new("p");
    let single = p.input_artifact("single", artifact::dataset());
    p.parallel_for_artifacts(&single, None, |p, _| {
        p.add(say().task().arg("msg", "a"));
    });
    let err = p.compile().unwrap_err();
    assert!(matches!(err, DslError::InvalidLoop { .. }), "{err}");

    // The current artifact is an artifact: it cannot feed a parameter.
    let mut p = Pipeline::new("p");
    let many = p.input_artifact_list("many", artifact::dataset());
    p.parallel_for_artifacts(&many, None, |p, item| {
        p.add(say().task().arg("msg", item));
    });
    let err = p.compile().unwrap_err();
    assert!(matches!(err, DslError::TypeMismatch { .. }), "{err}");
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn empty_dirs_ephemeral_volumes_and_security_context() -> TestResult {
    let python = r##"
from kfp import dsl, kubernetes

@dsl.container_component
def say(msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg])

@dsl.pipeline(name="volumes")
def pipeline():
    t = say(msg="a")
    kubernetes.empty_dir_mount(t, volume_name="scratch", mount_path="/scratch")
    kubernetes.empty_dir_mount(t, volume_name="shm", mount_path="/dev/shm", medium="Memory", size_limit="1Gi")
    kubernetes.add_ephemeral_volume(t, volume_name="eph", mount_path="/eph", access_modes=["ReadWriteOnce"], size="1Gi")
    kubernetes.add_ephemeral_volume(t, volume_name="eph2", mount_path="/eph2", access_modes=["ReadWriteOnce", "ReadOnlyMany"], size="2Gi", storage_class_name="fast", labels={"a": "b"}, annotations={"c": "d"})
    kubernetes.set_security_context(t, run_as_user=1000, run_as_non_root=True)
    t2 = say(msg="b")
    kubernetes.set_security_context(t2, run_as_group=0)
"##;
    let mut p = Pipeline::new("volumes");
    p.add(
        say()
            .task()
            .arg("msg", "a")
            .empty_dir(EmptyDir::new("scratch", "/scratch"))
            .empty_dir(
                EmptyDir::new("shm", "/dev/shm")
                    .medium("Memory")
                    .size_limit("1Gi"),
            )
            .ephemeral_volume(EphemeralVolume::new(
                "eph",
                "/eph",
                ["ReadWriteOnce"],
                "1Gi",
            ))
            .ephemeral_volume(
                EphemeralVolume::new("eph2", "/eph2", ["ReadWriteOnce", "ReadOnlyMany"], "2Gi")
                    .storage_class("fast")
                    .label("a", "b")
                    .annotation("c", "d"),
            )
            .security_context(
                SecurityContext::new()
                    .run_as_user(1000)
                    .run_as_non_root(true),
            ),
    );
    p.add(
        say()
            .task()
            .arg("msg", "b")
            .security_context(SecurityContext::new().run_as_group(0)),
    );
    assert_same_ir(python, &p)
}

#[test]
fn invalid_security_contexts_are_reported() {
    for context in [
        SecurityContext::new(),
        SecurityContext::new().run_as_user(-1),
    ] {
        let mut p = Pipeline::new("p");
        p.add(say().task().arg("msg", "a").security_context(context));
        assert!(matches!(
            p.compile(),
            Err(DslError::InvalidKubernetesSetting { .. })
        ));
    }
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn node_selector_and_toleration_json() -> TestResult {
    let python = r##"
from kfp import dsl, kubernetes

@dsl.container_component
def say(msg: str):
    return dsl.ContainerSpec(image="alpine", command=["echo"], args=[msg])

@dsl.pipeline(name="json-settings")
def pipeline(sel: dict = {"disk": "ssd"}, tol: dict = {"key": "gpu", "operator": "Exists"}):
    t = say(msg="a")
    kubernetes.add_node_selector_json(t, {"zone": "a"})
    kubernetes.add_toleration_json(t, {"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"})
    kubernetes.add_toleration_json(t, [{"key": "k2", "operator": "Exists"}])
    t2 = say(msg="b")
    kubernetes.add_node_selector_json(t2, sel)
    kubernetes.add_toleration_json(t2, tol)
    kubernetes.add_node_selector(t2, "x", "y")
"##;
    let mut p = Pipeline::new("json-settings");
    let sel = p.parameter_with_default("sel", ParameterType::Struct, json!({"disk": "ssd"}));
    let tol = p.parameter_with_default(
        "tol",
        ParameterType::Struct,
        json!({"key": "gpu", "operator": "Exists"}),
    );
    p.add(
        say()
            .task()
            .arg("msg", "a")
            .node_selector_json(json!({"zone": "a"}))
            .toleration_json(
                json!({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}),
            )
            .toleration_json(json!([{"key": "k2", "operator": "Exists"}])),
    );
    p.add(
        say()
            .task()
            .arg("msg", "b")
            .node_selector_json(&sel)
            .toleration_json(&tol)
            .node_selector("x", "y"),
    );
    assert_same_ir(python, &p)
}
