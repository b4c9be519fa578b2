//! Runs against a wiremock KFP: the exact requests, and decoding of realistic answers.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ExactJson, ExactQuery, NoBody, client, fixture, server};
use futures::TryStreamExt;
use kubeflow_pipelines::{Filter, PipelineSpec, RuntimeState, StorageState, WaitEvent};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn get_decodes_a_realistic_run() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/7f1c2d3e-run"))
        .and(ExactQuery(""))
        .and(header("authorization", "Bearer test-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("run_running.json")))
        .expect(1)
        .mount(&server)
        .await;
    let run = client(&server).runs().get("7f1c2d3e-run").await.unwrap();

    assert_eq!(run.state(), RuntimeState::Running);
    assert!(!run.is_finished());
    assert_eq!(run.storage_state, Some(StorageState::Available));
    // The epoch means "not finished".
    assert_eq!(run.finished_at, None);
    assert_eq!(
        run.created_at.map(|t| t.to_rfc3339()),
        Some("2026-11-30T08:00:00+00:00".into())
    );
    assert_eq!(run.parameters()["epochs"], json!(3));
    let details = run.run_details.as_ref().unwrap();
    // int64 as a string and as a number.
    assert_eq!(details.pipeline_context_id, Some(12));
    assert_eq!(details.pipeline_run_context_id, Some(13));
    let task = &details.task_details[0];
    assert_eq!(task.execution_id, Some(9_007_199_254_740_993));
    assert_eq!(task.outputs["model"].artifact_ids, vec![41, 42]);
    // An enum value this SDK does not know survives.
    assert_eq!(
        task.state,
        Some(RuntimeState::Unknown("WAITING_FOR_GPU".into()))
    );
    assert_eq!(task.end_time, None);
    assert_eq!(task.extra["task_future_field"], json!(true));
    assert_eq!(run.extra["future_field"], json!({"added": "in 2.99"}));
    assert_eq!(run.state_history.len(), 2);

    // Read-modify-write keeps unknown fields, and the epoch is not written back.
    let back = serde_json::to_value(&run).unwrap();
    assert_eq!(back["future_field"], json!({"added": "in 2.99"}));
    assert!(back.get("finished_at").is_none());
    assert_eq!(
        back["run_details"]["task_details"][0]["execution_id"],
        "9007199254740993"
    );
    // The whole model as it would be written back.
    insta::assert_json_snapshot!("run_running_written_back", run);
}

#[tokio::test]
async fn a_wrapped_pipeline_spec_is_read() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/r-spec"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("run_inline_spec.json")))
        .mount(&server)
        .await;
    let run = client(&server).runs().get("r-spec").await.unwrap();
    let spec = run.pipeline_spec.clone().unwrap();
    assert_eq!(spec.name(), Some("two-step"));
    assert_eq!(
        spec.platform_spec(),
        Some(&json!({"platforms": {"kubernetes": {"deploymentSpec": {}}}}))
    );
    assert!(run.finished_at.is_some());
    assert!(run.error.is_none());
    assert_eq!(run.state(), RuntimeState::Succeeded);
}

#[tokio::test]
async fn create_from_a_version_sends_only_what_was_set() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/runs"))
        .and(ExactQuery(""))
        .and(ExactJson(json!({
            "display_name": "r2",
            "experiment_id": "exp-1",
            "pipeline_version_reference": {"pipeline_id": "pl-1", "pipeline_version_id": "pv-1"},
            "runtime_config": {"parameters": {"x": 1, "lr": 0.5, "tags": ["a"]}}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("run_running.json")))
        .expect(1)
        .mount(&server)
        .await;
    let run = client(&server)
        .runs()
        .create("r2")
        .pipeline_version("pl-1", "pv-1")
        .param("x", 1)
        .param("lr", 0.5)
        .param("tags", ["a"])
        .experiment("exp-1")
        .send()
        .await
        .unwrap();
    assert_eq!(run.run_id.as_deref(), Some("7f1c2d3e-run"));
}

#[tokio::test]
async fn create_from_an_inline_spec_with_everything() {
    let server = server().await;
    let spec = PipelineSpec::new(json!({"pipelineInfo": {"name": "p"}, "root": {}}))
        .with_platform_spec(json!({"platforms": {"kubernetes": {}}}));
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/runs"))
        .and(ExactJson(json!({
            "display_name": "r1",
            "description": "d",
            "experiment_id": "exp-1",
            "service_account": "sa1",
            "pipeline_spec": {
                "pipeline_spec": {"pipelineInfo": {"name": "p"}, "root": {}},
                "platform_spec": {"platforms": {"kubernetes": {}}}
            },
            "runtime_config": {"parameters": {"y": 2.5}, "pipeline_root": "s3://bucket/root"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("run_inline_spec.json")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .runs()
        .create("r1")
        .pipeline_spec(spec)
        .params([("y", 2.5)])
        .pipeline_root("s3://bucket/root")
        .service_account("sa1")
        .experiment("exp-1")
        .description("d")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn create_without_a_pipeline_sends_nothing() {
    let server = server().await;
    let err = client(&server).runs().create("r").send().await.unwrap_err();
    assert!(err.to_string().contains("no pipeline"), "{err}");
    let err = client(&server)
        .runs()
        .create("r")
        .latest_version_of("")
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pipeline_id"), "{err}");
    // The catch-all (expect 0) checks that no request went out.
}

#[tokio::test]
async fn verbs_use_the_colon_routes_without_a_body() {
    let server = server().await;
    for verb in ["archive", "unarchive", "terminate", "retry"] {
        Mock::given(method("POST"))
            .and(path(format!("/apis/v2beta1/runs/run-1:{verb}")))
            .and(ExactQuery(""))
            .and(NoBody)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("DELETE"))
        .and(path("/apis/v2beta1/runs/run-1"))
        .and(ExactQuery(""))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let runs = client(&server).runs();
    runs.archive("run-1").await.unwrap();
    runs.unarchive("run-1").await.unwrap();
    runs.terminate("run-1").await.unwrap();
    runs.retry("run-1").await.unwrap();
    runs.delete("run-1").await.unwrap();
}

#[tokio::test]
async fn a_missing_run_says_which_run_with_the_servers_message() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/nope"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "code": 5,
            "message": "Failed to get run nope: ResourceNotFoundError: Run nope not found",
            "details": [{"@type": "type.googleapis.com/google.rpc.Status", "code": 5, "message": "Run nope not found"}]
        })))
        .mount(&server)
        .await;
    let err = client(&server).runs().get("nope").await.unwrap_err();
    assert!(err.is_not_found());
    let api = err.api_error().unwrap();
    assert_eq!(api.code, Some(5));
    assert_eq!(api.path, "/apis/v2beta1/runs/nope");
    let text = err.to_string();
    assert!(
        text.contains("/apis/v2beta1/runs/nope") && text.contains("Run nope not found"),
        "{text}"
    );
}

#[tokio::test]
async fn read_artifact_decodes_base64() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(
            "/apis/v2beta1/runs/run-1/nodes/node-7/artifacts/main-logs:read",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": "aGVsbG8gd29ybGQ="})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/apis/v2beta1/runs/run-1/nodes/node-7/artifacts/bad:read",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": "***"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/apis/v2beta1/runs/run-1/nodes/node-7/artifacts/gone:read",
        ))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error_message": "artifact gone not found", "error_details": "Failed to read artifact"
        })))
        .mount(&server)
        .await;
    let runs = client(&server).runs();
    let bytes = runs
        .read_artifact("run-1", "node-7", "main-logs")
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"hello world");
    let err = runs
        .read_artifact("run-1", "node-7", "bad")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not base64"), "{err}");
    let err = runs
        .read_artifact("run-1", "node-7", "gone")
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.api_error().unwrap().message, "artifact gone not found");
}

#[tokio::test]
async fn list_sends_paging_sort_filter_and_namespace() {
    let server = server().await;
    let filter = Filter::eq("state", RuntimeState::Failed);
    // The filter JSON is percent-encoded twice: the server decodes it twice.
    let encoded = "%257B%2522predicates%2522%253A%255B%257B%2522key%2522%253A%2522state%2522%252C%2522operation%2522%253A%2522EQUALS%2522%252C%2522string_value%2522%253A%2522FAILED%2522%257D%255D%257D";
    let q1: &'static str = Box::leak(
        format!("namespace=team-a&experiment_id=exp-1&page_size=2&sort_by=created_at+desc&filter={encoded}")
            .into_boxed_str(),
    );
    let q2: &'static str = Box::leak(
        format!("namespace=team-a&experiment_id=exp-1&page_token=tok-2&page_size=2&sort_by=created_at+desc&filter={encoded}")
            .into_boxed_str(),
    );
    let run = fixture("run_running.json");
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs"))
        .and(ExactQuery(q1))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"runs": [run, run], "total_size": 3, "next_page_token": "tok-2"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs"))
        .and(ExactQuery(q2))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"runs": [run], "total_size": 3})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let all: Vec<_> = client(&server)
        .runs()
        .list()
        .namespace("team-a")
        .experiment("exp-1")
        .page_size(2)
        .sort_by("created_at desc")
        .filter(filter)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
}

#[tokio::test]
async fn list_uses_the_clients_namespace_and_reads_an_empty_page() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs"))
        .and(ExactQuery("namespace=kubeflow-user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .with_namespace("kubeflow-user")
        .runs()
        .list()
        .send()
        .await
        .unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.total_size, 0);
    assert_eq!(page.next_page_token, None);
}

fn run_in(state: &str) -> serde_json::Value {
    json!({"run_id": "run-w", "state": state, "finished_at": "1970-01-01T00:00:00Z"})
}

/// Answers a sequence of bodies, then repeats the last one.
fn sequence(bodies: Vec<serde_json::Value>) -> impl Fn(&wiremock::Request) -> ResponseTemplate {
    let n = std::sync::atomic::AtomicUsize::new(0);
    move |_: &wiremock::Request| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body = bodies.get(i).or(bodies.last()).cloned().unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(body)
    }
}

#[tokio::test]
async fn wait_ends_on_canceled_and_reports_each_state_once() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/run-w"))
        .respond_with(sequence(vec![
            run_in("PENDING"),
            run_in("RUNNING"),
            run_in("RUNNING"),
            run_in("CANCELING"),
            run_in("CANCELED"),
        ]))
        .expect(5)
        .mount(&server)
        .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let run = client(&server)
        .runs()
        .wait("run-w")
        .poll_interval(Duration::from_millis(5), Duration::from_millis(10))
        .timeout(Duration::from_secs(10))
        .on_progress(move |state| s.lock().unwrap().push(state.clone()))
        .await
        .unwrap();
    assert_eq!(run.state(), RuntimeState::Canceled);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            RuntimeState::Pending,
            RuntimeState::Running,
            RuntimeState::Canceling,
            RuntimeState::Canceled
        ]
    );
}

#[tokio::test]
async fn wait_stream_and_a_failed_run_is_still_a_finished_run() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/run-w"))
        .respond_with(sequence(vec![run_in("RUNNING"), run_in("FAILED")]))
        .mount(&server)
        .await;
    let events: Vec<_> = client(&server)
        .runs()
        .wait("run-w")
        .poll_interval(Duration::from_millis(5), Duration::from_millis(10))
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0], WaitEvent::Progress(RuntimeState::Running));
    assert_eq!(events[1], WaitEvent::Progress(RuntimeState::Failed));
    match &events[2] {
        WaitEvent::Done(Some(run)) => assert_eq!(run.state(), RuntimeState::Failed),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wait_times_out_with_the_last_state() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/run-w"))
        .respond_with(sequence(vec![run_in("PAUSED")]))
        .mount(&server)
        .await;
    let err = client(&server)
        .runs()
        .wait("run-w")
        .poll_interval(Duration::from_millis(5), Duration::from_millis(10))
        .timeout(Duration::from_millis(200))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("run run-w") && text.contains("Paused"),
        "{text}"
    );
}

#[tokio::test]
async fn wait_for_a_run_that_does_not_exist_fails_at_once() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/ghost"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"code": 5, "message": "not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .runs()
        .wait("ghost")
        .timeout(Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("run ghost does not exist"),
        "{err}"
    );
}

#[tokio::test]
async fn a_long_wait_survives_a_token_rotation() {
    use kubeflow_pipelines::kubeflow_core::config::RetryPolicy;
    use kubeflow_pipelines::kubeflow_core::{Credentials, Endpoint};
    use kubeflow_pipelines::{KubeflowConfig, PipelinesClient};

    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "old\n").unwrap();
    // The first poll works with the old token, and the token is rotated while it is answered;
    // from then on the old token is refused.
    let rotate = token.clone();
    let polls_with_old = std::sync::atomic::AtomicUsize::new(0);
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/run-w"))
        .and(header("authorization", "Bearer old"))
        .respond_with(move |_: &wiremock::Request| {
            if polls_with_old.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                std::fs::write(&rotate, "new\n").unwrap();
                ResponseTemplate::new(200).set_body_json(run_in("RUNNING"))
            } else {
                ResponseTemplate::new(401)
                    .set_body_json(json!({"code": 16, "message": "token expired"}))
            }
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs/run-w"))
        .and(header("authorization", "Bearer new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(run_in("SUCCEEDED")))
        .expect(1..)
        .mount(&server)
        .await;
    let config = KubeflowConfig::new(Endpoint::direct(&server.uri()).unwrap())
        .credentials(Credentials::token_file(&token))
        .retry(RetryPolicy::disabled());
    let run = PipelinesClient::from_config(config)
        .unwrap()
        .runs()
        .wait("run-w")
        .poll_interval(Duration::from_millis(5), Duration::from_millis(10))
        .timeout(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(run.state(), RuntimeState::Succeeded);
}
