//! Pagination edge cases: repeated tokens, empty pages, errors mid-stream, invalid sizes.

mod common;

use common::{ExactQuery, client, server};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn exp(id: &str) -> serde_json::Value {
    json!({"experiment_id": id, "display_name": id})
}

#[tokio::test]
async fn a_repeated_token_stops_the_stream() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactQuery(""))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"experiments": [exp("a")], "next_page_token": "t1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The server hands back the same token again: a loop.
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactQuery("page_token=t1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"experiments": [exp("b")], "next_page_token": "t1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let ids: Vec<_> = client(&server)
        .experiments()
        .list()
        .stream()
        .map_ok(|e| e.experiment_id.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b"]);
}

#[tokio::test]
async fn an_empty_page_with_a_token_stops_the_stream() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactQuery(""))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"experiments": [], "next_page_token": "t1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let pages: Vec<_> = client(&server)
        .experiments()
        .list()
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
}

#[tokio::test]
async fn an_error_mid_stream_ends_it_after_the_items_already_read() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactQuery("page_size=1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"experiments": [exp("a")], "next_page_token": "t1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/experiments"))
        .and(ExactQuery("page_token=t1&page_size=1"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": 3, "message": "page token does not match the supplied sort by and/or filtering criteria"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server)
        .experiments()
        .list()
        .page_size(1)
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(
        err.to_string().contains("page token does not match"),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_page_sizes_are_refused_before_sending() {
    let server = server().await;
    let kfp = client(&server);
    for size in [0, 201] {
        let err = kfp.runs().list().page_size(size).send().await.unwrap_err();
        assert!(err.to_string().contains("1 to 200"), "{err}");
        let first = kfp.runs().list().page_size(size).stream().next().await;
        assert!(matches!(first, Some(Err(_))));
    }
}

#[tokio::test]
async fn a_decode_error_names_the_json_path() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/runs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "runs": [{"run_id": "a"}, {"run_id": "b", "created_at": "yesterday"}]
        })))
        .mount(&server)
        .await;
    let err = client(&server).runs().list().send().await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("runs[1].created_at"), "{text}");
}
