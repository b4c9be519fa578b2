//! NotebooksClient against a wiremock stand-in for the API server: the exact requests stop,
//! start and create send. (The real API server is exercised in `tests/tests/notebooks_k8s.rs`.)

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use kubeflow_notebooks::{NotebookBuilder, NotebookVolume, NotebooksClient};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const NB_PATH: &str = "/apis/kubeflow.org/v1/namespaces/team-a/notebooks";
const PVC_PATH: &str = "/api/v1/namespaces/team-a/persistentvolumeclaims";

async fn client(server: &MockServer) -> NotebooksClient {
    let config = kube::Config::new(server.uri().parse().unwrap());
    let kube = kube::Client::try_from(config).unwrap();
    NotebooksClient::from_kube(kube).in_namespace("team-a")
}

fn nb_json(annotations: Value) -> Value {
    json!({
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": { "name": "nb", "namespace": "team-a", "annotations": annotations },
        "spec": { "template": { "spec": { "containers": [ { "name": "nb", "image": "img" } ] } } }
    })
}

/// Echoes the request body back (what the API server does for a create).
fn echo(req: &Request) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    ResponseTemplate::new(201).set_body_json(body)
}

#[tokio::test]
async fn stop_sets_the_annotation_with_a_merge_patch() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{NB_PATH}/nb")))
        .respond_with(ResponseTemplate::new(200).set_body_json(nb_json(json!({}))))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{NB_PATH}/nb")))
        .and(header("content-type", "application/merge-patch+json"))
        .respond_with(|req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let stamp = body["metadata"]["annotations"]["kubeflow-resource-stopped"]
                .as_str()
                .unwrap()
                .to_owned();
            ResponseTemplate::new(200)
                .set_body_json(nb_json(json!({ "kubeflow-resource-stopped": stamp })))
        })
        .expect(1)
        .mount(&server)
        .await;
    let nb = client(&server).await.stop("nb").await.unwrap();
    assert!(nb.is_stopped());
    let requests = server.received_requests().await.unwrap();
    let patch = requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH")
        .unwrap();
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    let stamp = body["metadata"]["annotations"]["kubeflow-resource-stopped"]
        .as_str()
        .unwrap();
    // `%Y-%m-%dT%H:%M:%SZ`, as the Jupyter web app writes it.
    chrono::DateTime::parse_from_rfc3339(stamp).unwrap();
    assert!(stamp.ends_with('Z') && stamp.len() == 20, "{stamp}");
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "only metadata is patched: {body}"
    );
}

#[tokio::test]
async fn stopping_a_stopped_notebook_changes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{NB_PATH}/nb")))
        .respond_with(ResponseTemplate::new(200).set_body_json(nb_json(
            json!({ "kubeflow-resource-stopped": "2026-11-29T22:00:00Z" }),
        )))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let nb = client(&server).await.stop("nb").await.unwrap();
    assert_eq!(
        nb.metadata.annotations.unwrap()["kubeflow-resource-stopped"],
        "2026-11-29T22:00:00Z"
    );
}

#[tokio::test]
async fn start_removes_the_annotation() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("{NB_PATH}/nb")))
        .and(header("content-type", "application/merge-patch+json"))
        .and(body_partial_json(
            json!({ "metadata": { "annotations": { "kubeflow-resource-stopped": null } } }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(nb_json(json!({}))))
        .expect(1)
        .mount(&server)
        .await;
    let nb = client(&server).await.start("nb").await.unwrap();
    assert!(!nb.is_stopped());
}

#[tokio::test]
async fn create_dry_runs_everything_then_creates_the_pvcs_then_the_notebook() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(echo)
        .mount(&server)
        .await;
    let nb = client(&server)
        .await
        .create(
            NotebookBuilder::new("nb", "img")
                .workspace(NotebookVolume::new_pvc("5Gi"))
                .data_volume(NotebookVolume::new_pvc("1Gi")),
        )
        .await
        .unwrap();
    assert_eq!(nb.metadata.namespace.as_deref(), Some("team-a"));
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            format!(
                "{} {} dry_run={} {}",
                r.method,
                r.url.path(),
                r.url.query().is_some_and(|q| q.contains("dryRun=All")),
                body["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            format!("POST {NB_PATH} dry_run=true nb"),
            format!("POST {PVC_PATH} dry_run=true nb-workspace"),
            format!("POST {PVC_PATH} dry_run=true nb-datavol-1"),
            format!("POST {PVC_PATH} dry_run=false nb-workspace"),
            format!("POST {PVC_PATH} dry_run=false nb-datavol-1"),
            format!("POST {NB_PATH} dry_run=false nb"),
        ]
    );
}

#[tokio::test]
async fn a_refused_notebook_leaves_no_new_pvc_behind() {
    let server = MockServer::start().await;
    // The dry runs pass; the real notebook create is refused (e.g. it appeared meanwhile).
    Mock::given(method("POST"))
        .and(path(NB_PATH))
        .and(query_param("dryRun", "All"))
        .respond_with(echo)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(NB_PATH))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "notebooks.kubeflow.org \"nb\" already exists",
            "reason": "AlreadyExists", "code": 409
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(PVC_PATH))
        .respond_with(echo)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{PVC_PATH}/nb-workspace")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": { "name": "nb-workspace", "namespace": "team-a" }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .create(NotebookBuilder::new("nb", "img").workspace(NotebookVolume::new_pvc("5Gi")))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        err.to_string(),
        "creating notebook team-a/nb: the API server said 409 AlreadyExists: notebooks.kubeflow.org \"nb\" already exists"
    );
}

#[tokio::test]
async fn invalid_notebooks_send_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(echo)
        .expect(0)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .create(NotebookBuilder::new("nb", "img").gpus("voodoo", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kubeflow_notebooks::Error::Invalid { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn urls_through_the_gateway() {
    let server = MockServer::start().await;
    let nb = client(&server).await;
    let err = nb.url("nb").unwrap_err();
    assert!(err.to_string().contains("no Kubeflow gateway URL"), "{err}");
    let nb = nb.with_gateway("http://localhost:8080".parse().unwrap());
    assert_eq!(
        nb.url("my-nb").unwrap().as_str(),
        "http://localhost:8080/notebook/team-a/my-nb/"
    );
    let nb = nb.with_gateway("https://kubeflow.example.com/prefix".parse().unwrap());
    assert_eq!(
        nb.url("my-nb").unwrap().as_str(),
        "https://kubeflow.example.com/prefix/notebook/team-a/my-nb/"
    );
}
