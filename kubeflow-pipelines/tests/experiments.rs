//! Experiments and healthz against a wiremock KFP.

mod common;

use common::{ExactJson, ExactQuery, NoBody, client, fixture, server};
use kubeflow_pipelines::StorageState;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn healthz_old_and_new_servers() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/healthz"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "commit_sha": "abc", "tag_name": "2.17.0", "multi_user": true, "pipeline_store": "kubernetes"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/healthz"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"commit_sha": "old", "tag_name": "2.5.0"})),
        )
        .mount(&server)
        .await;
    let kfp = client(&server);
    let h = kfp.healthz().await.unwrap();
    assert!(h.multi_user);
    assert_eq!(h.pipeline_store.as_deref(), Some("kubernetes"));
    assert_eq!(h.tag_name.as_deref(), Some("2.17.0"));
    let h = kfp.healthz().await.unwrap();
    assert!(!h.multi_user);
    assert_eq!(h.pipeline_store, None);
}

#[tokio::test]
async fn create_in_the_default_namespace_or_another() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactJson(json!({"display_name": "nightly", "description": "nightly training", "namespace": "kubeflow-user"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("experiment.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactJson(json!({"display_name": "plain"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("experiment.json")))
        .expect(1)
        .mount(&server)
        .await;
    let exp = client(&server)
        .with_namespace("kubeflow-user")
        .experiments()
        .create("nightly")
        .description("nightly training")
        .send()
        .await
        .unwrap();
    assert_eq!(exp.id().unwrap(), "0b3a5c1e-exp");
    assert_eq!(exp.storage_state, Some(StorageState::Available));
    assert_eq!(exp.last_run_created_at, None);
    client(&server)
        .experiments()
        .create("plain")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn get_archive_unarchive_delete() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments/e%2F1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("experiment.json")))
        .expect(1)
        .mount(&server)
        .await;
    for verb in ["archive", "unarchive"] {
        Mock::given(method("POST"))
            .and(path(format!("/apis/v2beta1/experiments/e1:{verb}")))
            .and(NoBody)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("DELETE"))
        .and(path("/apis/v2beta1/experiments/e1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let api = client(&server).experiments();
    // An id with a slash stays one path segment.
    api.get("e/1").await.unwrap();
    api.archive("e1").await.unwrap();
    api.unarchive("e1").await.unwrap();
    api.delete("e1").await.unwrap();
}

#[tokio::test]
async fn get_by_name_filters_on_display_name() {
    let server = server().await;
    // {"predicates":[{"key":"display_name","operation":"EQUALS","string_value":"a+b 100%"}]}, encoded twice.
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactQuery(
            "page_size=2&filter=%257B%2522predicates%2522%253A%255B%257B%2522key%2522%253A%2522display_name%2522%252C%2522operation%2522%253A%2522EQUALS%2522%252C%2522string_value%2522%253A%2522a%252Bb%2B100%2525%2522%257D%255D%257D",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"experiments": [fixture("experiment.json")], "total_size": 1})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactQuery("namespace=ns&page_size=2&filter=%257B%2522predicates%2522%253A%255B%257B%2522key%2522%253A%2522display_name%2522%252C%2522operation%2522%253A%2522EQUALS%2522%252C%2522string_value%2522%253A%2522none%2522%257D%255D%257D"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server)
        .experiments()
        .get_by_name("a+b 100%")
        .await
        .unwrap();
    assert_eq!(found.unwrap().display_name.as_deref(), Some("nightly"));
    let none = client(&server)
        .with_namespace("ns")
        .experiments()
        .get_by_name("none")
        .await
        .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn an_html_page_from_a_proxy_is_an_error_not_a_decode_failure() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments/e1"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("content-type", "text/html")
                .set_body_string("<html><head><title>Error</title></head><body><pre>Cannot GET /pipeline/apis/v2beta1/experiments/e1</pre></body></html>"),
        )
        .mount(&server)
        .await;
    let err = client(&server).experiments().get("e1").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn the_user_id_header_goes_only_over_a_direct_connection() {
    use kubeflow_pipelines::kubeflow_core::config::RetryPolicy;
    use kubeflow_pipelines::kubeflow_core::{Credentials, Endpoint};
    use kubeflow_pipelines::{KubeflowConfig, PipelinesClient};
    use wiremock::matchers::header;

    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments"))
        .and(header("kubeflow-userid", "alice@example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments/e1"))
        .and(header("kubeflow-userid", "alice@example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("experiment.json")))
        .expect(1)
        .mount(&server)
        .await;
    let kfp = client(&server).with_user_id("alice@example.com").unwrap();
    kfp.experiments().list().send().await.unwrap();
    kfp.experiments().get("e1").await.unwrap();
    // Debug never shows who.
    assert!(!format!("{kfp:?}").contains("alice"));

    let gateway = KubeflowConfig::new(Endpoint::gateway(&server.uri()).unwrap())
        .credentials(Credentials::bearer("t"))
        .retry(RetryPolicy::disabled());
    let err = PipelinesClient::from_config(gateway)
        .unwrap()
        .with_user_id("alice@example.com")
        .unwrap_err();
    assert!(err.to_string().contains("direct connection"), "{err}");
}
