//! Shared by the wiremock tests: a mock KFP server whose catch-all answer fails loudly, and a
//! client pointed at it.
#![allow(dead_code)]

use kubeflow_pipelines::kubeflow_core::config::RetryPolicy;
use kubeflow_pipelines::kubeflow_core::{Credentials, Endpoint};
use kubeflow_pipelines::{KubeflowConfig, PipelinesClient};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

/// A fixture from `tests/fixtures/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A mock server with a catch-all mock: any request no other mock matches gets HTTP 599 with
/// a body naming it (so the client's error says which request was unexpected), and the
/// server panics when dropped if that happened.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &Request| {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            ResponseTemplate::new(599).set_body_string(format!(
                "unexpected request: {} {} body={body}",
                req.method, req.url
            ))
        })
        .with_priority(u8::MAX)
        .named("catch-all: unexpected request")
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// A client for the mock server (bearer token, no retries so failures are immediate).
pub fn client(server: &MockServer) -> PipelinesClient {
    let config = KubeflowConfig::new(Endpoint::direct(&server.uri()).expect("mock url"))
        .credentials(Credentials::bearer("test-token"))
        .retry(RetryPolicy::disabled());
    PipelinesClient::from_config(config).expect("client")
}

/// Matches the whole query string exactly (`""` = no query).
pub struct ExactQuery(pub &'static str);

impl Match for ExactQuery {
    fn matches(&self, request: &Request) -> bool {
        request.url.query().unwrap_or("") == self.0
    }
}

/// Matches a JSON body exactly (no extra field).
pub struct ExactJson(pub Value);

impl Match for ExactJson {
    fn matches(&self, request: &Request) -> bool {
        serde_json::from_slice::<Value>(&request.body).ok().as_ref() == Some(&self.0)
    }
}

/// Matches a request without a body.
pub struct NoBody;

impl Match for NoBody {
    fn matches(&self, request: &Request) -> bool {
        request.body.is_empty()
    }
}
