//! Measures reading and re-writing pipeline IR: the largest reference IR file and a generated
//! 500-task pipeline, in Rust and — when `KUBEFLOW_TEST_PYTHON` names a python with `kfp` — in
//! the Python SDK (YAML load into its protobuf structures, then dump), and prints the ratio.
//!
//! ```text
//! cargo run --release -p kubeflow-examples --example ir_bench
//! ```

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline, Placeholder};
use kubeflow_pipelines::spec::{CompiledPipeline, ParameterType};

const ROUNDS: u32 = 20;

fn reference_dir() -> PathBuf {
    std::env::var_os("KUBEFLOW_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
}

fn largest_reference_file() -> anyhow::Result<PathBuf> {
    let dir = reference_dir().join("kfp/ir-examples");
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let size = std::fs::metadata(&path)?.len();
        if best.as_ref().is_none_or(|(s, _)| size > *s) {
            best = Some((size, path));
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| anyhow::anyhow!("no file in {}", dir.display()))
}

fn generated_pipeline(tasks: usize) -> anyhow::Result<String> {
    let step = ContainerComponent::new("step", "alpine")
        .input("x", ParameterType::String)
        .output("y", ParameterType::String)
        .command(["sh", "-c", "echo $0 > $1"])
        .args([Placeholder::input("x"), Placeholder::output_file("y")]);
    let mut p = Pipeline::new("generated");
    let mut previous = p.add(step.task().arg("x", "start"));
    for _ in 1..tasks {
        previous = p.add(step.task().arg("x", previous.output("y")));
    }
    Ok(p.compile_package()?.to_yaml_string()?)
}

/// Mean milliseconds of one read + write in Rust.
fn rust_ms(yaml: &str) -> anyhow::Result<f64> {
    let start = Instant::now();
    for _ in 0..ROUNDS {
        let package = CompiledPipeline::from_yaml_str(yaml)?;
        std::hint::black_box(package.to_yaml_string()?);
    }
    Ok(start.elapsed().as_secs_f64() * 1000.0 / f64::from(ROUNDS))
}

const PYTHON: &str = r#"
import sys, time, yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
text = open(sys.argv[1]).read()
rounds = int(sys.argv[2])
start = time.perf_counter()
for _ in range(rounds):
    docs = list(yaml.safe_load_all(text))
    spec = json_format.ParseDict(docs[0], pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True)
    out = [json_format.MessageToDict(spec)]
    if len(docs) > 1:
        platform = json_format.ParseDict(docs[1], pipeline_spec_pb2.PlatformSpec(), ignore_unknown_fields=True)
        out.append(json_format.MessageToDict(platform))
    yaml.dump_all(out, sort_keys=True)
print((time.perf_counter() - start) * 1000 / rounds)
"#;

/// Mean milliseconds of one read + write with the Python SDK's structures, if available.
fn python_ms(path: &std::path::Path) -> Option<f64> {
    let python = std::env::var_os("KUBEFLOW_TEST_PYTHON")?;
    let output = Command::new(python)
        .args(["-c", PYTHON])
        .arg(path)
        .arg(ROUNDS.to_string())
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!("python failed: {}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn main() -> anyhow::Result<()> {
    let reference = largest_reference_file()?;
    let generated = generated_pipeline(500)?;
    let generated_path =
        std::env::temp_dir().join(format!("kf-ir-bench-{}.yaml", std::process::id()));
    std::fs::write(&generated_path, &generated)?;
    let cases = [
        (
            reference.display().to_string(),
            std::fs::read_to_string(&reference)?,
            reference.clone(),
        ),
        (
            "generated 500-task pipeline".to_owned(),
            generated,
            generated_path.clone(),
        ),
    ];
    println!("read + write, mean of {ROUNDS} rounds");
    for (name, text, path) in &cases {
        let rust = rust_ms(text)?;
        match python_ms(path) {
            Some(python) => println!(
                "{name} ({} bytes): rust {rust:.2} ms, python {python:.2} ms, python/rust {:.1}x",
                text.len(),
                python / rust
            ),
            None => println!(
                "{name} ({} bytes): rust {rust:.2} ms (set KUBEFLOW_TEST_PYTHON for python)",
                text.len()
            ),
        }
    }
    std::fs::remove_file(&generated_path)?;
    Ok(())
}
