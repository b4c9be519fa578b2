//! Shared by the `pipelines_ir_equal*` tests: compile with the official compiler and compare.
#![allow(dead_code)] // each test file uses a part

use kubeflow_pipelines::dsl::Pipeline;
use kubeflow_pipelines::spec::{CompiledPipeline, PipelineSpec};
use kubeflow_test_support::python::compile_pipeline;
use serde_json::Value;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Names the first path where two JSON values differ.
pub fn first_difference(left: &Value, right: &Value, path: &str) -> Option<String> {
    match (left, right) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys()) {
                let sub = format!("{path}.{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => {
                        if let Some(diff) = first_difference(x, y, &sub) {
                            return Some(diff);
                        }
                    }
                    (x, y) => return Some(format!("{sub}: python {x:?} vs rust {y:?}")),
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        _ if left == right => None,
        _ => Some(format!("{path}: python {left} vs rust {right}")),
    }
}

pub fn without_sdk_version(spec: &PipelineSpec) -> Result<Value, Box<dyn std::error::Error>> {
    let mut value = serde_json::to_value(spec)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("sdkVersion");
    }
    Ok(value)
}

/// Compiles `python` with the official compiler and asserts `rust` compiles to the same IR
/// (both documents: the pipeline spec and the kfp-kubernetes platform spec).
pub fn assert_same_ir(python: &str, rust: &Pipeline) -> TestResult {
    assert_same_ir_normalized(python, rust, |_| {})
}

/// As [`assert_same_ir`], comparing modulo a canonical renaming of components and executors.
///
/// With nested pipelines the official compiler renames the components and executors of the
/// inner pipeline that collide with names already taken, in the iteration order of protobuf
/// maps, which varies from run to run (the same pipeline compiles to differently numbered
/// `comp-say-2` / `comp-say-2-2` / `exec-say-3`); so both documents are compared after renaming
/// every component after the path of task names leading to it from the root DAG and putting
/// each executor (and its platform config) in place of the label of the components using it
/// ([`canonical_names`]). This also absorbs a bug of kfp 2.17.3 seen in some runs: chained
/// renames (`exec-say` → `exec-say-2` while `exec-say-2` → `exec-say-3`) leave two components
/// on one executor and another executor unused — harmless there as both run the same
/// container. Task names, DAGs, inputs, outputs, executors' contents and the platform config
/// are compared as written.
pub fn assert_same_ir_modulo_names(python: &str, rust: &Pipeline) -> TestResult {
    assert_same_ir_normalized(python, rust, canonical_names)
}

/// Renames every component to `comp@/<task>/<task>…` (the first path of task names, in sorted
/// order, that reaches it from the root DAG), then replaces every `executorLabel` with the
/// executor and its kfp-kubernetes config, dropping the executor maps.
pub fn canonical_names(documents: &mut Value) {
    fn visit(
        components: &serde_json::Map<String, Value>,
        tasks: Option<&Value>,
        prefix: &str,
        names: &mut std::collections::BTreeMap<String, String>,
    ) {
        let Some(tasks) = tasks.and_then(Value::as_object) else {
            return;
        };
        for (task, spec) in tasks {
            let Some(component) = spec.pointer("/componentRef/name").and_then(Value::as_str) else {
                continue;
            };
            if names.contains_key(component) {
                continue;
            }
            let path = format!("{prefix}/{task}");
            names.insert(component.to_owned(), format!("comp@{path}"));
            let inner = components
                .get(component)
                .and_then(|c| c.pointer("/dag/tasks"));
            visit(components, inner, &path, names);
        }
    }
    fn rename_refs(tasks: Option<&mut Value>, names: &std::collections::BTreeMap<String, String>) {
        let Some(tasks) = tasks.and_then(Value::as_object_mut) else {
            return;
        };
        for spec in tasks.values_mut() {
            if let Some(name) = spec.pointer_mut("/componentRef/name")
                && let Some(new) = name.as_str().and_then(|n| names.get(n))
            {
                *name = Value::String(new.clone());
            }
        }
    }
    let Some(spec) = documents.get_mut(0) else {
        return;
    };
    let mut names = std::collections::BTreeMap::new();
    if let Some(components) = spec.get("components").and_then(Value::as_object) {
        visit(components, spec.pointer("/root/dag/tasks"), "", &mut names);
    }
    rename_refs(spec.pointer_mut("/root/dag/tasks"), &names);
    if let Some(components) = spec.get_mut("components").and_then(Value::as_object_mut) {
        let old = std::mem::take(components);
        for (name, mut component) in old {
            rename_refs(component.pointer_mut("/dag/tasks"), &names);
            let new = names.get(&name).cloned().unwrap_or(name);
            components.insert(new, component);
        }
    }
    inline_executors(documents);
}

/// Replaces each component's `executorLabel` with `{"executor": …, "platform": …}` and
/// removes `deploymentSpec.executors` and the platform spec's executors.
pub fn inline_executors(documents: &mut Value) {
    let executors = documents
        .pointer_mut("/0/deploymentSpec/executors")
        .map(Value::take)
        .unwrap_or(Value::Null);
    let platform = documents
        .pointer_mut("/1/platforms/kubernetes/deploymentSpec/executors")
        .map(Value::take)
        .unwrap_or(Value::Null);
    if let Some(components) = documents
        .pointer_mut("/0/components")
        .and_then(Value::as_object_mut)
    {
        for component in components.values_mut() {
            if let Some(label) = component.get_mut("executorLabel") {
                let name = label.as_str().unwrap_or_default().to_owned();
                *label = serde_json::json!({
                    "executor": executors.get(&name),
                    "platform": platform.get(&name),
                });
            }
        }
    }
}

/// As [`assert_same_ir`], after applying `normalize` to both documents (as a JSON array).
pub fn assert_same_ir_normalized(
    python: &str,
    rust: &Pipeline,
    normalize: fn(&mut Value),
) -> TestResult {
    let yaml = compile_pipeline(python);
    let official = CompiledPipeline::from_yaml_str(&yaml)?;
    let ours = rust.compile_package()?;
    let mut expected = vec![without_sdk_version(&official.pipeline_spec)?];
    expected.extend(
        official
            .platform_spec
            .as_ref()
            .map(serde_json::to_value)
            .transpose()?,
    );
    let mut actual = vec![without_sdk_version(&ours.pipeline_spec)?];
    actual.extend(
        ours.platform_spec
            .as_ref()
            .map(serde_json::to_value)
            .transpose()?,
    );
    let (mut expected, mut actual) = (Value::Array(expected), Value::Array(actual));
    normalize(&mut expected);
    normalize(&mut actual);
    if expected != actual {
        let ours_yaml = ours.to_yaml_string()?;
        panic!(
            "IR differs at {}\n--- official ---\n{yaml}\n--- rust ---\n{ours_yaml}",
            first_difference(&expected, &actual, "").unwrap_or_default()
        );
    }
    Ok(())
}
