//! Recurring runs against a wiremock KFP.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{ExactJson, ExactQuery, NoBody, client, fixture, server};
use kubeflow_pipelines::{DeletePropagationPolicy, RecurringRunStatus, Trigger};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn create_with_a_cron_trigger() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/recurringruns"))
        .and(ExactJson(json!({
            "display_name": "rr",
            "pipeline_version_reference": {"pipeline_id": "pl-1", "pipeline_version_id": "pv-1"},
            "runtime_config": {"parameters": {"x": 1}},
            "max_concurrency": "2",
            "trigger": {"cron_schedule": {"cron": "0 0 * * * *", "start_time": "2026-12-01T00:00:00Z"}},
            "mode": "ENABLE",
            "no_catchup": true,
            "experiment_id": "exp-1"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("recurring_run.json")))
        .expect(1)
        .mount(&server)
        .await;
    let start: DateTime<Utc> = "2026-12-01T00:00:00Z".parse().unwrap();
    let rr = client(&server)
        .recurring_runs()
        .create("rr", Trigger::cron("0 0 * * * *").start(start))
        .pipeline_version("pl-1", "pv-1")
        .param("x", 1)
        .max_concurrency(2)
        .no_catchup(true)
        .experiment("exp-1")
        .send()
        .await
        .unwrap();
    assert_eq!(rr.status, Some(RecurringRunStatus::Enabled));
    assert_eq!(rr.max_concurrency, Some(2));
    let periodic = rr.trigger.unwrap().periodic_schedule.unwrap();
    assert_eq!(periodic.interval_second, Some(3600));
}

#[tokio::test]
async fn create_periodic_disabled_with_a_spec() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/recurringruns"))
        .and(ExactJson(json!({
            "display_name": "p",
            "pipeline_spec": {"pipelineInfo": {"name": "x"}},
            "trigger": {"periodic_schedule": {"interval_second": "900"}},
            "mode": "DISABLE",
            "service_account": "sa",
            "description": "d",
            "runtime_config": {"pipeline_root": "gs://b/r"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("recurring_run.json")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .recurring_runs()
        .create("p", Trigger::every(Duration::from_secs(900)))
        .pipeline_spec(kubeflow_pipelines::PipelineSpec::new(
            json!({"pipelineInfo": {"name": "x"}}),
        ))
        .enabled(false)
        .service_account("sa")
        .description("d")
        .pipeline_root("gs://b/r")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_triggers_and_concurrency_are_refused_before_sending() {
    let server = server().await;
    let api = client(&server).recurring_runs();
    for (trigger, needle) in [
        (Trigger::cron("0 * * * *"), "6 fields"),
        (
            Trigger::every(Duration::from_millis(500)),
            "at least one second",
        ),
        (Trigger::default(), "exactly one"),
    ] {
        let err = api
            .create("x", trigger)
            .latest_version_of("pl")
            .send()
            .await
            .unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
    let err = api
        .create("x", Trigger::cron("0 0 * * * *"))
        .latest_version_of("pl")
        .max_concurrency(11)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 to 10"), "{err}");
}

#[tokio::test]
async fn get_list_enable_disable_delete() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/recurringruns/rr-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("recurring_run.json")))
        .expect(1)
        .mount(&server)
        .await;
    // The list key is camelCase `recurringRuns`; an unknown status must not break decoding.
    let mut odd = fixture("recurring_run.json");
    odd["status"] = json!("PAUSED_BY_ADMIN");
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/recurringruns"))
        .and(ExactQuery("experiment_id=exp-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "recurringRuns": [fixture("recurring_run.json"), odd], "total_size": 2
        })))
        .expect(1)
        .mount(&server)
        .await;
    for verb in ["enable", "disable"] {
        Mock::given(method("POST"))
            .and(path(format!("/apis/v2beta1/recurringruns/rr-1:{verb}")))
            .and(NoBody)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("DELETE"))
        .and(path("/apis/v2beta1/recurringruns/rr-1"))
        .and(ExactQuery("propagation_policy=BACKGROUND"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/apis/v2beta1/recurringruns/rr-2"))
        .and(ExactQuery(""))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let api = client(&server).recurring_runs();
    let rr = api.get("rr-1").await.unwrap();
    assert_eq!(rr.namespace.as_deref(), Some("kubeflow-user"));
    insta::assert_json_snapshot!("recurring_run_written_back", rr);
    let page = api.list().experiment("exp-1").send().await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(
        page.items[1].status,
        Some(RecurringRunStatus::Unknown("PAUSED_BY_ADMIN".into()))
    );
    api.enable("rr-1").await.unwrap();
    api.disable("rr-1").await.unwrap();
    api.delete("rr-1", Some(DeletePropagationPolicy::Background))
        .await
        .unwrap();
    api.delete("rr-2", None).await.unwrap();
}
