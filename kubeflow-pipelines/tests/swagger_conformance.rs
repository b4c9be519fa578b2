//! The models know every field of the official v2beta1 swagger (read in place from
//! `${KUBEFLOW_REFERENCE_DIR:-<workspace>/../shared/reference}`): an object carrying each
//! property of a definition must decode with nothing left over in `extra`.

use std::path::PathBuf;

use kubeflow_pipelines::{
    Experiment, Extra, Healthz, Pipeline, PipelineTaskDetail, PipelineVersion, RecurringRun, Run,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

fn swagger() -> Value {
    let dir = std::env::var_os("KUBEFLOW_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference")
        });
    let path = dir.join("kfp/swagger/kfp_api_single_file.swagger.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {} (set KUBEFLOW_REFERENCE_DIR): {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `{property: null, ...}` for every property of a definition.
fn all_properties(swagger: &Value, definition: &str) -> Value {
    let props = swagger["definitions"][definition]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no definition {definition} in the swagger"));
    assert!(!props.is_empty(), "{definition} has no properties");
    Value::Object(
        props
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect::<Map<_, _>>(),
    )
}

fn check<T: DeserializeOwned>(swagger: &Value, definition: &str, extra: impl Fn(&T) -> &Extra) {
    let object = all_properties(swagger, definition);
    let decoded: T = serde_json::from_value(object.clone())
        .unwrap_or_else(|e| panic!("{definition}: {e} (from {object})"));
    let unknown: Vec<&String> = extra(&decoded).keys().collect();
    assert!(
        unknown.is_empty(),
        "{definition}: fields the model does not know: {unknown:?}"
    );
}

#[test]
fn every_swagger_field_has_a_home_in_the_models() {
    let s = swagger();
    check::<Run>(&s, "v2beta1Run", |m| &m.extra);
    check::<RecurringRun>(&s, "v2beta1RecurringRun", |m| &m.extra);
    check::<Pipeline>(&s, "v2beta1Pipeline", |m| &m.extra);
    check::<PipelineVersion>(&s, "v2beta1PipelineVersion", |m| &m.extra);
    check::<Experiment>(&s, "v2beta1Experiment", |m| &m.extra);
    check::<PipelineTaskDetail>(&s, "v2beta1PipelineTaskDetail", |m| &m.extra);
    check::<Healthz>(&s, "v2beta1GetHealthzResponse", |m| &m.extra);
}

#[test]
fn every_enum_value_of_the_swagger_is_known() {
    let s = swagger();
    fn values(s: &Value, def: &str) -> Vec<String> {
        s["definitions"][def]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum {def}"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }
    macro_rules! known {
        ($ty:ty, $def:literal) => {
            for v in values(&s, $def) {
                let parsed: $ty = serde_json::from_value(Value::String(v.clone())).unwrap();
                assert!(
                    !format!("{parsed:?}").starts_with("Unknown("),
                    "{}: {v} is not a known value",
                    $def
                );
                assert_eq!(parsed.as_str(), v);
            }
        };
    }
    known!(kubeflow_pipelines::RuntimeState, "v2beta1RuntimeState");
    known!(kubeflow_pipelines::StorageState, "v2beta1RunStorageState");
    known!(
        kubeflow_pipelines::StorageState,
        "v2beta1ExperimentStorageState"
    );
    known!(kubeflow_pipelines::RecurringRunMode, "RecurringRunMode");
    known!(
        kubeflow_pipelines::RecurringRunStatus,
        "v2beta1RecurringRunStatus"
    );
    known!(
        kubeflow_pipelines::DeletePropagationPolicy,
        "v2beta1DeletePropagationPolicy"
    );
}

/// The compiled pipelines of the reference (from `kfp.compiler`) read as `PipelineSpec`s, with
/// their platform spec when the YAML has a second document, and survive the JSON shapes the
/// server uses (plain, or wrapped with `platform_spec`) and a YAML round trip.
#[test]
fn reference_compiled_pipelines_read_and_round_trip() {
    use kubeflow_pipelines::PipelineSpec;
    let dir = std::env::var_os("KUBEFLOW_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
        .join("kfp/ir-examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} (set KUBEFLOW_REFERENCE_DIR): {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "only {} compiled pipelines in {}",
        files.len(),
        dir.display()
    );
    let mut with_platform = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let spec = PipelineSpec::from_file(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            spec.name().is_some(),
            "{}: no pipelineInfo.name",
            f.display()
        );
        assert!(
            spec.spec().get("root").is_some(),
            "{}: no root",
            f.display()
        );
        let has_second_doc = text.lines().any(|l| l == "---");
        assert_eq!(
            spec.platform_spec().is_some(),
            has_second_doc,
            "{}",
            f.display()
        );
        with_platform += usize::from(has_second_doc);
        let wire = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            wire.get("pipeline_spec").is_some(),
            has_second_doc,
            "{}",
            f.display()
        );
        let back: PipelineSpec = serde_json::from_value(wire).unwrap();
        assert_eq!(back, spec, "{}", f.display());
        let again = PipelineSpec::from_yaml(&spec.to_yaml().unwrap()).unwrap();
        assert_eq!(again, spec, "{}: YAML round trip", f.display());
    }
    assert!(
        with_platform >= 1,
        "no compiled pipeline with a platform spec"
    );
}
