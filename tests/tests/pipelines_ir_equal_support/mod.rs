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

/// As [`assert_same_ir`], comparing modulo a canonical renaming of executor labels.
///
/// With nested pipelines the official compiler renames the executors of the inner pipeline
/// that collide with the outer pipeline's in the iteration order of a protobuf map, which is
/// not deterministic; so both documents are compared after renaming every executor to
/// `exec@<the component that uses it>`. Component names, task names and everything else are
/// compared as written.
pub fn assert_same_ir_modulo_executor_labels(python: &str, rust: &Pipeline) -> TestResult {
    assert_same_ir_normalized(python, rust, canonical_executor_labels)
}

/// Renames every executor label to `exec@<first component using it>`, in the pipeline spec
/// (`components.*.executorLabel`, `deploymentSpec.executors`) and in the platform spec.
pub fn canonical_executor_labels(documents: &mut Value) {
    let Some(documents) = documents.as_array_mut() else {
        return;
    };
    let mut names = std::collections::BTreeMap::new();
    if let Some(components) = documents
        .first_mut()
        .and_then(|spec| spec.get_mut("components"))
        .and_then(Value::as_object_mut)
    {
        for (component, spec) in components.iter_mut() {
            if let Some(label) = spec.get_mut("executorLabel") {
                let old = label.as_str().unwrap_or_default().to_owned();
                let new = names
                    .entry(old)
                    .or_insert_with(|| format!("exec@{component}"))
                    .clone();
                *label = Value::String(new);
            }
        }
    }
    let rename = |executors: Option<&mut Value>| {
        if let Some(executors) = executors.and_then(Value::as_object_mut) {
            let old = std::mem::take(executors);
            for (label, executor) in old {
                let new = names.get(&label).cloned().unwrap_or(label);
                executors.insert(new, executor);
            }
        }
    };
    if let Some(spec) = documents.first_mut() {
        rename(spec.pointer_mut("/deploymentSpec/executors"));
    }
    if let Some(platform) = documents.get_mut(1) {
        rename(platform.pointer_mut("/platforms/kubernetes/deploymentSpec/executors"));
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
