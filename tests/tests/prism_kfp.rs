//! The official KFP pieces our pipelines client is checked against: Prism serving the KFP
//! v2beta1 swagger as a validating mock, and the `kfp` Python compiler (PyPI, 2.17.x).

use anyhow::Context;
use kubeflow_test_support::prism::{AUTHORIZATION, prism_url};
use kubeflow_test_support::python::{compile_pipeline, parse_pipeline_yaml};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn client() -> anyhow::Result<Client> {
    // no_proxy: the servers are on 127.0.0.1; an HTTP(S)_PROXY of the machine must not apply.
    Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

async fn post(body: &Value, authorization: Option<&str>) -> anyhow::Result<(StatusCode, Value)> {
    let url = format!("{}/apis/v2beta1/experiments", prism_url());
    let mut request = client()?.post(&url).json(body);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body = response
        .json()
        .await
        .with_context(|| format!("POST {url}: body"))?;
    Ok((status, body))
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn prism_accepts_a_valid_create_experiment() -> anyhow::Result<()> {
    let body = json!({"display_name": "kubeflow-rs", "description": "from a test", "namespace": "kubeflow-user"});
    let (status, response) = post(&body, Some(AUTHORIZATION)).await?;
    assert_eq!(status, StatusCode::OK, "{response}");
    // Prism answers with an example built from the V2beta1Experiment schema.
    assert!(response["experiment_id"].is_string(), "{response}");
    assert!(response["display_name"].is_string(), "{response}");
    assert!(response["storage_state"].is_string(), "{response}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn prism_rejects_a_request_that_breaks_the_spec() -> anyhow::Result<()> {
    let (status, response) = post(&json!({"display_name": 5}), Some(AUTHORIZATION)).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{response}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn prism_requires_an_authorization_header() -> anyhow::Result<()> {
    // The swagger puts an apiKey scheme on the `authorization` header of every operation.
    let (status, _) = post(&json!({"display_name": "kubeflow-rs"}), None).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn prism_serves_list_runs() -> anyhow::Result<()> {
    let url = format!(
        "{}/apis/v2beta1/runs?page_size=10&sort_by=created_at%20desc",
        prism_url()
    );
    let response = client()?
        .get(&url)
        .header("Authorization", AUTHORIZATION)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await?;
    assert!(body["runs"].is_array(), "{body}");
    Ok(())
}

const TWO_STEP_PIPELINE: &str = r#"
from kfp import dsl


@dsl.component(base_image="python:3.11")
def add(a: float, b: float) -> float:
    return a + b


@dsl.pipeline(name="two-step", description="Adds twice.")
def two_step(x: float = 1.0, y: float = 2.0) -> float:
    first = add(a=x, b=y)
    second = add(a=first.output, b=y)
    return second.output
"#;

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn kfp_compiles_a_two_step_pipeline() -> anyhow::Result<()> {
    let yaml = compile_pipeline(TWO_STEP_PIPELINE);
    assert!(
        yaml.starts_with("# PIPELINE DEFINITION\n# Name: two-step\n"),
        "{yaml}"
    );
    let documents = parse_pipeline_yaml(&yaml)?;
    assert_eq!(documents.len(), 1, "no platform spec expected");
    let spec = &documents[0];

    assert_eq!(
        spec["pipelineInfo"],
        json!({"name": "two-step", "description": "Adds twice."})
    );
    assert_eq!(spec["schemaVersion"], "2.1.0");
    let sdk = spec["sdkVersion"].as_str().context("sdkVersion")?;
    assert!(sdk.starts_with("kfp-2.17."), "{sdk}");

    let root = &spec["root"];
    assert_eq!(
        root["inputDefinitions"]["parameters"]["x"],
        json!({"defaultValue": 1.0, "isOptional": true, "parameterType": "NUMBER_DOUBLE"})
    );
    let tasks = root["dag"]["tasks"].as_object().context("root.dag.tasks")?;
    let mut names: Vec<&str> = tasks.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["add", "add-2"]);
    assert_eq!(tasks["add-2"]["dependentTasks"], json!(["add"]));
    assert_eq!(
        tasks["add-2"]["inputs"]["parameters"]["a"],
        json!({"taskOutputParameter": {"outputParameterKey": "Output", "producerTask": "add"}})
    );
    assert_eq!(
        root["dag"]["outputs"]["parameters"]["Output"],
        json!({"valueFromParameter": {"outputParameterKey": "Output", "producerSubtask": "add-2"}})
    );

    let executors = spec["deploymentSpec"]["executors"]
        .as_object()
        .context("deploymentSpec.executors")?;
    assert_eq!(executors.len(), 2);
    let container = &executors["exec-add"]["container"];
    assert_eq!(container["image"], "python:3.11");
    assert_eq!(
        container["args"],
        json!(["--executor_input", "{{$}}", "--function_to_execute", "add"])
    );
    assert_eq!(spec["components"]["comp-add"]["executorLabel"], "exec-add");
    Ok(())
}

#[test]
#[ignore = "needs the real servers started by scripts/test"]
fn kfp_compiler_errors_are_reported() {
    let err = kubeflow_test_support::python::try_compile_pipeline("x = 1\n")
        .expect_err("a module without a pipeline must not compile");
    assert!(
        format!("{err:#}").contains("defines no @dsl.pipeline"),
        "{err:#}"
    );
}
