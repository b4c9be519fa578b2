//! Builds a pipeline with the Rust DSL, compiles it to the IR the official KFP compiler writes,
//! and prints the package YAML (ready for upload) and the DAG as Mermaid.
//!
//! ```text
//! cargo run -p kubeflow-examples --example pipeline_dsl            # YAML + Mermaid on stdout
//! cargo run -p kubeflow-examples --example pipeline_dsl -- out.yaml
//! ```

use kubeflow_pipelines::dsl::{
    Condition, ContainerComponent, Pipeline, Placeholder, Retry, artifact,
};
use kubeflow_pipelines::spec::ParameterType;

fn main() -> anyhow::Result<()> {
    let prepare = ContainerComponent::new("prepare", "python:3.12")
        .input("rows", ParameterType::NumberInteger)
        .output_artifact("data", artifact::dataset())
        .output("quality", ParameterType::String)
        .command(["python", "prepare.py"])
        .args([
            Placeholder::from("--rows"),
            Placeholder::input("rows"),
            "--out".into(),
            Placeholder::output_path("data"),
            "--quality".into(),
            Placeholder::output_file("quality"),
        ]);
    let train = ContainerComponent::new("train", "python:3.12")
        .input_artifact("data", artifact::dataset())
        .input_with_default("lr", ParameterType::NumberDouble, 0.01)
        .output_artifact("model", artifact::model())
        .command(["python", "train.py"])
        .args([
            Placeholder::input_path("data"),
            Placeholder::input("lr"),
            Placeholder::output_path("model"),
        ]);

    let mut pipeline =
        Pipeline::new("train-if-good").description("Prepares data, trains when it is good.");
    let rows = pipeline.parameter_with_default("rows", ParameterType::NumberInteger, 1000);
    let prepared = pipeline.add(
        prepare
            .task()
            .arg("rows", &rows)
            .cpu_limit("1")
            .memory_limit("2Gi"),
    );
    pipeline.condition(Condition::eq(prepared.output("quality"), "good"), |p| {
        p.add(
            train
                .task()
                .arg("data", prepared.output("data"))
                .retry(Retry::times(2))
                .accelerator_type("nvidia.com/gpu")
                .accelerator_limit(1),
        );
    });

    let package = pipeline.compile_package()?;
    match std::env::args().nth(1) {
        Some(path) => {
            package.write(&path)?;
            println!("wrote {path}");
        }
        None => print!("{}", package.to_yaml_string()?),
    }
    println!("\n{}", package.pipeline_spec.to_mermaid());
    Ok(())
}
