//! Pipelines, versions and uploads against a wiremock KFP.

mod common;

use common::{ExactJson, ExactQuery, client, fixture, server};
use kubeflow_pipelines::{MAX_PACKAGE_SIZE, PipelinePackage, PipelineSpec};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

const YAML: &str =
    "# PIPELINE DEFINITION\npipelineInfo:\n  name: two-step\nroot: {}\nschemaVersion: 2.1.0\n";

/// The multipart body's single part: (content-disposition line, content).
fn only_part(req: &Request) -> (String, Vec<u8>) {
    let ct = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let boundary = ct.split("boundary=").nth(1).unwrap_or_default().to_owned();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let body = req.body.clone();
    let text = String::from_utf8_lossy(&body).into_owned();
    let parts: Vec<&str> = text
        .split(&format!("--{boundary}"))
        .filter(|p| !p.is_empty() && *p != "--\r\n")
        .collect();
    assert_eq!(parts.len(), 1, "{text}");
    let (head, content) = parts[0].split_once("\r\n\r\n").unwrap_or_default();
    let disposition = head
        .lines()
        .find(|l| l.starts_with("Content-Disposition"))
        .unwrap_or_default()
        .to_owned();
    (
        disposition,
        content
            .strip_suffix("\r\n")
            .unwrap_or(content)
            .as_bytes()
            .to_vec(),
    )
}

#[tokio::test]
async fn upload_a_file_with_every_query_parameter() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("two_step.yaml");
    std::fs::write(&file, YAML).unwrap();
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/pipelines/upload"))
        .and(ExactQuery(
            "name=two-step&display_name=Two+step&description=Adds+twice.&namespace=team-a&tags=%7B%22team%22%3A%22ml%22%7D&code_source_url=https%3A%2F%2Fgit.example%2Fp",
        ))
        .and(|req: &Request| {
            let (disposition, content) = only_part(req);
            disposition == r#"Content-Disposition: form-data; name="uploadfile"; filename="two_step.yaml""#
                && content == YAML.as_bytes()
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline.json")))
        .expect(1)
        .mount(&server)
        .await;
    let p = client(&server)
        .pipelines()
        .upload(PipelinePackage::file(&file))
        .name("two-step")
        .display_name("Two step")
        .description("Adds twice.")
        .namespace("team-a")
        .tag("team", "ml")
        .code_source_url("https://git.example/p")
        .send()
        .await
        .unwrap();
    assert_eq!(p.pipeline_id.as_deref(), Some("pl-1"));
    assert_eq!(p.tags["team"], "ml");
}

#[tokio::test]
async fn upload_a_spec_takes_its_name() {
    let server = server().await;
    let spec = PipelineSpec::from_yaml(YAML).unwrap();
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/pipelines/upload"))
        .and(ExactQuery("name=two-step"))
        .and(|req: &Request| {
            let (disposition, content) = only_part(req);
            let back = PipelineSpec::from_yaml(&String::from_utf8_lossy(&content));
            disposition.ends_with(r#"filename="pipeline.yaml""#)
                && back.ok().map(|s| s.name().map(str::to_owned)) == Some(Some("two-step".into()))
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline.json")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .pipelines()
        .upload(&spec)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn upload_version_from_bytes() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/pipelines/upload_version"))
        .and(ExactQuery("name=v2&pipelineid=pl-1"))
        .and(|req: &Request| {
            let (disposition, content) = only_part(req);
            disposition.ends_with(r#"name="uploadfile"; filename="p.json""#) && content == b"{}"
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline_version.json")))
        .expect(1)
        .mount(&server)
        .await;
    let v = client(&server)
        .pipelines()
        .upload_version("pl-1", PipelinePackage::bytes("p.json", &b"{}"[..]))
        .name("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(v.pipeline_version_id.as_deref(), Some("pv-1"));
    let spec = v.pipeline_spec.unwrap();
    assert_eq!(spec.name(), Some("two-step"));
    assert_eq!(spec.platform_spec(), None);
}

#[tokio::test]
async fn oversized_and_empty_packages_are_refused_before_sending() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(MAX_PACKAGE_SIZE + 1).unwrap();
    let kfp = client(&server);
    let err = kfp
        .pipelines()
        .upload(PipelinePackage::file(&big))
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("32 MiB"), "{err}");
    let data = vec![b'a'; usize::try_from(MAX_PACKAGE_SIZE).unwrap() + 1];
    let err = kfp
        .pipelines()
        .upload_version("pl-1", PipelinePackage::bytes("p.yaml", data))
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("32 MiB"), "{err}");
    let err = kfp
        .pipelines()
        .upload(PipelinePackage::bytes("p.yaml", Vec::new()))
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    let err = kfp
        .pipelines()
        .upload(PipelinePackage::file(dir.path().join("missing.yaml")))
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing.yaml"), "{err}");
}

#[tokio::test]
async fn upload_conflict_keeps_the_upload_error_shape() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/pipelines/upload"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "error_message": "Failed to create a pipeline. The pipeline already exist.",
            "error_details": "Failed to create a pipeline: already exists"
        })))
        .mount(&server)
        .await;
    let err = client(&server)
        .pipelines()
        .upload(PipelinePackage::bytes("p.yaml", YAML))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_conflict());
    assert!(err.to_string().contains("already exist"), "{err}");
}

#[tokio::test]
async fn create_get_by_name_update_and_delete() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/pipelines"))
        .and(ExactJson(json!({"display_name": "p", "name": "p-1", "description": "d", "namespace": "ns", "tags": {"a": "b"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/pipelines/create"))
        .and(ExactJson(json!({
            "pipeline": {"display_name": "p"},
            "pipeline_version": {"display_name": "v1", "package_url": {"pipeline_url": "https://x.example/p.yaml"}}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/pipelines/names/two%20step"))
        .and(ExactQuery("namespace=ns"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/pipelines/pl-1"))
        .and(ExactQuery(""))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/apis/v2beta1/pipelines/pl-1"))
        .and(ExactJson(
            json!({"pipeline_id": "pl-1", "display_name": "new", "tags": {"k": "v"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/apis/v2beta1/pipelines/pl-1"))
        .and(ExactQuery("cascade=true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/apis/v2beta1/pipelines/pl-2"))
        .and(ExactQuery(""))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let api = client(&server).pipelines();
    api.create("p")
        .name("p-1")
        .description("d")
        .namespace("ns")
        .tag("a", "b")
        .send()
        .await
        .unwrap();
    api.create("p")
        .with_version("v1", "https://x.example/p.yaml")
        .send()
        .await
        .unwrap();
    let p = api.get_by_name("two step", Some("ns")).await.unwrap();
    assert_eq!(p.name.as_deref(), Some("two-step"));
    api.get("pl-1").await.unwrap();
    api.update("pl-1")
        .display_name("new")
        .tag("k", "v")
        .send()
        .await
        .unwrap();
    api.delete("pl-1", true).await.unwrap();
    api.delete("pl-2", false).await.unwrap();
    assert!(api.get("").await.is_err());
}

#[tokio::test]
async fn versions_create_get_list_update_delete() {
    let server = server().await;
    let base = "/apis/v2beta1/pipelines/pl-1/versions";
    Mock::given(method("POST"))
        .and(path(base))
        .and(ExactJson(json!({
            "pipeline_id": "pl-1", "display_name": "v2", "description": "d",
            "package_url": {"pipeline_url": "https://x.example/p.yaml"}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline_version.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/pipelines/upload_version"))
        .and(ExactQuery("display_name=v3&pipelineid=pl-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline_version.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/pv-1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline_version.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(base))
        .and(ExactQuery("page_size=200&sort_by=created_at"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "pipeline_versions": [fixture("pipeline_version.json")], "total_size": 1
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{base}/pv-1")))
        .and(ExactJson(json!({"pipeline_id": "pl-1", "pipeline_version_id": "pv-1", "display_name": "renamed"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("pipeline_version.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{base}/pv-1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let versions = client(&server).pipelines().versions("pl-1");
    versions
        .create("v2")
        .description("d")
        .package_url("https://x.example/p.yaml")
        .send()
        .await
        .unwrap();
    versions
        .create("v3")
        .spec(PipelineSpec::from_yaml(YAML).unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        versions.create("v4").send().await.is_err(),
        "neither URL nor spec"
    );
    versions.get("pv-1").await.unwrap();
    let page = versions
        .list()
        .page_size(200)
        .sort_by("created_at")
        .send()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.total_size, 1);
    versions
        .update_display_name("pv-1", "renamed")
        .await
        .unwrap();
    versions.delete("pv-1").await.unwrap();
}

#[tokio::test]
async fn list_pipelines_by_namespace() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/pipelines"))
        .and(ExactQuery("namespace=team-a&page_token=abc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "pipelines": [fixture("pipeline.json")], "total_size": 41, "next_page_token": "def"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .pipelines()
        .list()
        .namespace("team-a")
        .page_token("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(page.total_size, 41);
    assert_eq!(page.next_page_token.as_deref(), Some("def"));
    assert_eq!(page.items[0].display_name.as_deref(), Some("two step"));
}
