//! The InferenceClient a ServingClient makes for an InferenceService: through a gateway it sends
//! the InferenceService's Host, keeps status.url's path prefix and the credentials; JSON V2
//! requests carry `Content-Type: application/json`; infer POSTs are not retried by default.

use kubeflow_core::{Credentials, Endpoint, KubeflowClient, KubeflowConfig};
use kubeflow_serving::{InferRequest, InferTensor, InferenceService, Route, ServingClient};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn isvc_with_url(url: &str) -> InferenceService {
    let mut isvc = InferenceService::with_model("iris", "sklearn", "gs://b/m");
    isvc.status = Some(
        serde_json::from_value(
            json!({"url": url, "address": {"url": "http://iris-predictor.ns.svc.cluster.local"}}),
        )
        .expect("status"),
    );
    isvc
}

fn offline_kube() -> kube::Client {
    let config = kube::Config::new("http://127.0.0.1:1".parse().expect("uri"));
    kube::Client::try_from(config).expect("kube client")
}

#[tokio::test]
async fn through_the_gateway_with_host_prefix_and_credentials() {
    let gw = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/serving/ns/iris/v2/models/iris/infer"))
        .and(header("host", "iris.ns.example.com"))
        .and(header("authorization", "Bearer t0ken"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1.0]}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "model_name": "iris", "outputs": [{"name": "y", "shape": [1], "datatype": "INT64", "data": [2]}]})))
        .expect(1)
        .mount(&gw)
        .await;
    let config = KubeflowConfig::new(Endpoint::gateway(&gw.uri()).expect("gw"))
        .credentials(Credentials::bearer("t0ken"))
        .namespace("ns");
    let kf = KubeflowClient::builder(config)
        .kube_client(offline_kube())
        .build()
        .expect("kf");
    let serving = ServingClient::new(&kf).expect("serving");
    let isvc = isvc_with_url("http://iris.ns.example.com/serving/ns/iris");
    let client = serving
        .inference_client(&isvc, Route::External)
        .expect("client");
    let r = client
        .infer(
            "iris",
            &InferRequest::new().input(InferTensor::new("x", vec![1], vec![1f32]).expect("t")),
        )
        .await
        .expect("infer");
    assert_eq!(r.outputs[0].as_i64(), Some(&[2i64][..]));
}

#[tokio::test]
async fn infer_posts_are_not_retried_unless_asked() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/models/m:predict"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(json!({"error": "Model with name m is not ready."})),
        )
        .expect(1)
        .mount(&s)
        .await;
    let client = kubeflow_serving::InferenceClient::from_url(&s.uri()).expect("client");
    let e = client
        .v1_predict("m", &json!({"instances": [[1]]}))
        .await
        .expect_err("503");
    assert_eq!(e.status(), Some(503));
    assert!(e.to_string().contains("is not ready"), "{e}");
    s.verify().await;
    // Readiness calls map 503 to "not ready".
    Mock::given(method("GET"))
        .and(path("/v2/models/m/ready"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(json!({"error": "Model with name m is not ready."})),
        )
        .mount(&s)
        .await;
    assert!(!client.model_ready("m", None).await.expect("ready"));
}

#[tokio::test]
async fn non_json_errors_are_clear() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(504).set_body_raw("upstream request timeout", "text/plain"),
        )
        .mount(&s)
        .await;
    let client = kubeflow_serving::InferenceClient::from_url(&s.uri()).expect("client");
    let e = client.v1_predict("m", &json!({})).await.expect_err("504");
    assert_eq!(e.status(), Some(504));
    assert!(e.to_string().contains("upstream request timeout"), "{e}");
}

#[tokio::test]
async fn cluster_local_and_missing_urls() {
    let serving = ServingClient::from_kube(offline_kube(), "ns");
    let isvc = isvc_with_url("http://iris.ns.example.com");
    let c = serving
        .inference_client(&isvc, Route::ClusterLocal)
        .expect("client");
    assert!(
        c.http()
            .base()
            .contains("iris-predictor.ns.svc.cluster.local"),
        "{}",
        c.http().base()
    );
    let none = InferenceService::with_model("x", "sklearn", "gs://b");
    assert!(serving.inference_client(&none, Route::External).is_err());
}
