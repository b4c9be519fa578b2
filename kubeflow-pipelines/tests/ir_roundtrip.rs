//! Lossless round-trip of every pipeline the official compiler wrote in the reference data
//! (`kfp/ir-examples`), and parse errors naming document, path and line.

use std::path::PathBuf;

use kubeflow_pipelines::spec::{CompiledPipeline, PipelineSpec, SpecError};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn reference_dir() -> PathBuf {
    std::env::var_os("KUBEFLOW_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
}

fn ir_examples() -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let dir = reference_dir().join("kfp/ir-examples");
    if !dir.is_dir() {
        return Err(format!("{} is missing (set KUBEFLOW_REFERENCE_DIR)", dir.display()).into());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| {
        p.extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    });
    files.sort();
    Ok(files)
}

/// The documents of a YAML text as JSON values (the reference reading, untyped).
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

/// Names the first path where two JSON values differ, for a readable failure.
fn first_difference(left: &Value, right: &Value, path: &str) -> Option<String> {
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
                    (x, y) => return Some(format!("{sub}: {x:?} vs {y:?}")),
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
        _ => Some(format!("{path}: {left} vs {right}")),
    }
}

#[test]
fn every_reference_pipeline_round_trips_losslessly() -> TestResult {
    let files = ir_examples()?;
    assert!(
        files.len() >= 10,
        "expected the 10 reference IR files, found {}",
        files.len()
    );
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let original = documents(&text)?;
        let package = CompiledPipeline::read(file)?;

        // Typed → JSON equals the input, document by document.
        let mut typed = vec![serde_json::to_value(&package.pipeline_spec)?];
        if let Some(platform) = &package.platform_spec {
            typed.push(serde_json::to_value(platform)?);
        }
        assert_eq!(
            typed.len(),
            original.len(),
            "{}: document count",
            file.display()
        );
        for (index, (a, b)) in original.iter().zip(&typed).enumerate() {
            assert!(
                a == b,
                "{} document {}: typed value differs: {:?}",
                file.display(),
                index + 1,
                first_difference(a, b, "")
            );
        }

        // Written YAML parses back to the same documents.
        let yaml = package.to_yaml_string()?;
        assert!(
            yaml.starts_with("# PIPELINE DEFINITION\n"),
            "{}: header",
            file.display()
        );
        let rewritten = documents(&yaml)?;
        assert!(
            rewritten == original,
            "{}: rewritten YAML differs: {:?}",
            file.display(),
            original
                .iter()
                .zip(&rewritten)
                .find_map(|(a, b)| first_difference(a, b, ""))
        );
        assert_eq!(
            CompiledPipeline::from_yaml_str(&yaml)?,
            package,
            "{}",
            file.display()
        );

        // And so does JSON (the API form when there is a platform spec).
        let json = package.to_json_string()?;
        assert_eq!(
            CompiledPipeline::from_json_str(&json)?,
            package,
            "{}",
            file.display()
        );
        let api = package.to_api_value()?;
        assert_eq!(
            CompiledPipeline::from_api_value(api)?,
            package,
            "{}",
            file.display()
        );
    }
    Ok(())
}

#[test]
fn unknown_fields_and_enum_values_are_kept() -> TestResult {
    let yaml = "\
pipelineInfo:
  name: p
  futureField: {nested: [1, 2.5, 'x']}
root:
  dag:
    tasks:
      a:
        componentRef: {name: comp-a}
        taskInfo: {name: a}
        brandNewPolicy: {x: true}
  inputDefinitions:
    parameters:
      n: {parameterType: NUMBER_QUANTUM, defaultValue: 1.0}
schemaVersion: 9.9.9
topLevelNew: 3
";
    let package = CompiledPipeline::from_yaml_str(yaml)?;
    let written = documents(&package.to_yaml_string()?)?;
    assert_eq!(written, documents(yaml)?);
    let root = package.pipeline_spec.root.as_ref().ok_or("no root")?;
    let param = &root
        .input_definitions
        .as_ref()
        .ok_or("no inputs")?
        .parameters["n"];
    assert_eq!(
        param.parameter_type.as_ref().map(|t| t.as_str()),
        Some("NUMBER_QUANTUM")
    );
    assert!(package.pipeline_spec.other.contains_key("topLevelNew"));
    Ok(())
}

fn parse_error(yaml: &str) -> (usize, String, Option<u64>, String) {
    match CompiledPipeline::from_yaml_str(yaml) {
        Err(SpecError::Parse(e)) => (e.document, e.path, e.line, e.message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn type_errors_name_document_path_and_line() {
    let yaml = "\
pipelineInfo:
  name: p
root:
  dag:
    tasks:
      train:
        cachingOptions:
          enableCache: maybe
schemaVersion: 2.1.0
";
    let (document, path, line, message) = parse_error(yaml);
    assert_eq!(document, 1);
    assert_eq!(path, "root.dag.tasks.train.cachingOptions.enableCache");
    assert_eq!(line, Some(8));
    assert!(message.contains("boolean"), "{message}");
    let shown = CompiledPipeline::from_yaml_str(yaml)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        shown.contains(
            "document 1 (PipelineSpec) at root.dag.tasks.train.cachingOptions.enableCache (line 8"
        ),
        "{shown}"
    );

    let yaml = "\
pipelineInfo: {name: p}
---
platforms:
  kubernetes:
    deploymentSpec:
      executors:
        exec-a:
          secretAsEnv:
          - secretName: s
            keyToEnv: not-a-list
";
    let (document, path, line, _) = parse_error(yaml);
    assert_eq!(document, 2);
    assert_eq!(
        path,
        "platforms.kubernetes.deploymentSpec.executors.exec-a.secretAsEnv[0].keyToEnv"
    );
    assert_eq!(line, Some(10));
}

#[test]
fn syntax_errors_name_document_and_line() {
    let yaml = "pipelineInfo: {name: p}\n---\nplatforms:\n  kubernetes: [unclosed\n";
    let (document, _, line, _) = parse_error(yaml);
    assert_eq!(document, 2);
    assert!(line.is_some_and(|l| l >= 4), "line {line:?}");

    match CompiledPipeline::from_json_str("{\n  \"pipelineInfo\": {\"name\": 3}\n}") {
        Err(SpecError::Parse(e)) => {
            assert_eq!(e.path, "pipelineInfo.name");
            assert_eq!(e.line, Some(2));
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert!(matches!(
        CompiledPipeline::from_yaml_str("a: 1\n---\nb: 2\n---\nc: 3\n"),
        Err(SpecError::DocumentCount { count: 3, .. })
    ));
}

#[test]
fn yaml_1_1_boolean_spellings_stay_strings() -> TestResult {
    // PyYAML writes these unquoted; they are strings, and we quote them when writing so that
    // YAML 1.1 readers (such as the Go YAML libraries of the KFP backend) see strings too.
    let yaml = "pipelineInfo:\n  name: y\n  description: 'on'\nroot:\n  dag:\n    tasks:\n      t:\n        componentRef: {name: n}\nschemaVersion: off\n";
    let package = CompiledPipeline::from_yaml_str(yaml)?;
    assert_eq!(package.pipeline_spec.name(), Some("y"));
    assert_eq!(package.pipeline_spec.schema_version.as_deref(), Some("off"));
    let written = package.to_yaml_string()?;
    for word in ["y", "on", "off", "n"] {
        assert!(
            !written
                .lines()
                .any(|l| !l.starts_with('#') && l.trim_end().ends_with(&format!(": {word}"))),
            "{word} written unquoted:\n{written}"
        );
    }
    assert_eq!(CompiledPipeline::from_yaml_str(&written)?, package);
    Ok(())
}

#[test]
fn json_value_conversions() -> TestResult {
    let value = serde_json::json!({"pipelineInfo": {"name": "p"}, "schemaVersion": "2.1.0"});
    let spec = PipelineSpec::try_from(value.clone())?;
    assert_eq!(Value::from(&spec), value);
    let package = CompiledPipeline::from(spec.clone());
    assert_eq!(Value::from(&package), value);
    assert_eq!(
        CompiledPipeline::try_from(Value::from(package))?.pipeline_spec,
        spec
    );
    Ok(())
}

#[test]
fn syntax_error_message_is_one_line() {
    let err = CompiledPipeline::from_yaml_str("pipelineInfo:\n  name: [a\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("<string>: document 1 (PipelineSpec) (line "),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn converts_to_and_from_the_rest_clients_spec() -> TestResult {
    for file in ir_examples()? {
        let compiled = CompiledPipeline::read(&file)?;
        let rest = kubeflow_pipelines::PipelineSpec::from(&compiled);
        assert_eq!(
            rest.platform_spec().is_some(),
            compiled.platform_spec.is_some()
        );
        assert_eq!(
            CompiledPipeline::try_from(&rest)?,
            compiled,
            "{}",
            file.display()
        );
        // The REST client reads the same YAML into the same JSON.
        let text = std::fs::read_to_string(&file)?;
        let read = kubeflow_pipelines::PipelineSpec::from_yaml(&text)?;
        assert_eq!(read.spec(), rest.spec(), "{}", file.display());
    }
    Ok(())
}
