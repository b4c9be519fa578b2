//! TokenRequest against a fake API server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{ctx, header_text};
use crate::Error;
use crate::auth::{AuthContext, Authenticator, Credentials, ServiceAccountToken};

pub(super) const SA_TOKEN_MARK: &str = "SATOKENSECRET";
const TOKEN_PATH: &str = "/api/v1/namespaces/kubeflow-user/serviceaccounts/default-editor/token";

/// Issues token n, valid for `lifetime` from now.
struct Issue {
    n: Arc<AtomicUsize>,
    lifetime: Duration,
}

impl Respond for Issue {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
        // Whole seconds, rounded down (as the API server writes them): the lifetime seen by
        // the client is at most `lifetime`.
        let secs = i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX / 2);
        let expires = Timestamp::from_second(Timestamp::now().as_second().saturating_add(secs))
            .unwrap_or(Timestamp::MAX);
        ResponseTemplate::new(201).set_body_json(json!({
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": "default-editor", "namespace": "kubeflow-user"},
            "spec": {"audiences": ["pipelines.kubeflow.org"], "expirationSeconds": 3600},
            "status": {"token": format!("tok-{n}-{SA_TOKEN_MARK}"), "expirationTimestamp": expires.to_string()},
        }))
    }
}

pub(super) async fn api_server(lifetime: Duration) -> (MockServer, Arc<AtomicUsize>) {
    let server = MockServer::start().await;
    let n = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_partial_json(json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": ["pipelines.kubeflow.org"], "expirationSeconds": 3600}
        })))
        .respond_with(Issue {
            n: n.clone(),
            lifetime,
        })
        .mount(&server)
        .await;
    (server, n)
}

pub(super) fn kube_ctx(server: &MockServer) -> AuthContext {
    let uri: http::Uri = server.uri().parse().expect("mock URI");
    let client = kube::Client::try_from(kube::Config::new(uri)).expect("kube client");
    AuthContext {
        kube: Some(client),
        ..ctx(None)
    }
}

pub(super) fn sa() -> Credentials {
    Credentials::ServiceAccount(
        ServiceAccountToken::new("kubeflow-user", "default-editor")
            .audience("pipelines.kubeflow.org"),
    )
}

async fn bearer(auth: &Authenticator) -> String {
    let headers = auth
        .headers()
        .await
        .unwrap_or_else(|e| panic!("headers: {e}"));
    assert!(headers[0].1.is_sensitive());
    header_text(&headers, &http::header::AUTHORIZATION).unwrap_or_default()
}

#[tokio::test]
async fn token_is_cached_then_renewed_at_80_percent() {
    // The API server grants only 2 s (it may shorten the requested hour).
    let (server, n) = api_server(Duration::from_secs(2)).await;
    let auth = Authenticator::new(sa(), kube_ctx(&server)).expect("authenticator");
    assert!(auth.can_refresh());
    assert_eq!(n.load(Ordering::SeqCst), 0, "no I/O when built");
    assert_eq!(bearer(&auth).await, format!("Bearer tok-1-{SA_TOKEN_MARK}"));
    assert_eq!(bearer(&auth).await, format!("Bearer tok-1-{SA_TOKEN_MARK}"));
    assert_eq!(n.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(bearer(&auth).await, format!("Bearer tok-2-{SA_TOKEN_MARK}"));
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn refresh_forces_a_new_token() {
    let (server, n) = api_server(Duration::from_secs(3600)).await;
    let auth = Authenticator::new(sa(), kube_ctx(&server)).expect("authenticator");
    assert_eq!(bearer(&auth).await, format!("Bearer tok-1-{SA_TOKEN_MARK}"));
    assert_eq!(bearer(&auth).await, format!("Bearer tok-1-{SA_TOKEN_MARK}"));
    auth.refresh().await.expect("refresh");
    assert_eq!(bearer(&auth).await, format!("Bearer tok-2-{SA_TOKEN_MARK}"));
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn api_server_refusals_are_auth_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "serviceaccounts \"default-editor\" is forbidden: User \"me\" cannot create resource \"serviceaccounts/token\"",
            "reason": "Forbidden", "code": 403
        })))
        .mount(&server)
        .await;
    let auth = Authenticator::new(sa(), kube_ctx(&server)).expect("authenticator");
    let err = auth.headers().await.expect_err("forbidden");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("kubeflow-user/default-editor"), "{text}");
    assert!(text.contains("serviceaccounts/token"), "{text}");
}

#[tokio::test]
async fn answers_without_a_token_are_auth_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"status": {"expirationTimestamp": "2030-01-01T00:00:00Z"}})),
        )
        .mount(&server)
        .await;
    let auth = Authenticator::new(sa(), kube_ctx(&server)).expect("authenticator");
    let err = auth.headers().await.expect_err("no token");
    assert!(
        err.to_string().contains("`status.token` is missing"),
        "{err}"
    );
}

#[tokio::test]
async fn settings_are_checked_without_io() {
    let err = Authenticator::new(sa(), ctx(None)).expect_err("no kube client");
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(
        err.to_string().contains("needs a Kubernetes client"),
        "{err}"
    );

    let server = MockServer::start().await;
    let bad_name = Credentials::ServiceAccount(ServiceAccountToken::new("ns", "../secrets/x"));
    let short = Credentials::ServiceAccount(
        ServiceAccountToken::new("ns", "sa").expiration(Duration::from_secs(60)),
    );
    for c in [bad_name, short] {
        let err = Authenticator::new(c, kube_ctx(&server)).expect_err("invalid");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(0));
}

#[tokio::test]
async fn refresh_after_skips_a_token_another_request_already_renewed() {
    let (server, n) = api_server(Duration::from_secs(3600)).await;
    let auth = Authenticator::new(sa(), kube_ctx(&server)).expect("authenticator");
    let h1 = auth.headers().await.expect("token");
    auth.refresh_after(&h1).await.expect("renew");
    assert_eq!(n.load(Ordering::SeqCst), 2);
    auth.refresh_after(&h1).await.expect("already renewed");
    assert_eq!(n.load(Ordering::SeqCst), 2);
    assert_eq!(bearer(&auth).await, format!("Bearer tok-2-{SA_TOKEN_MARK}"));
}
