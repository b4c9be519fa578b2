//! The shared HTTP layer against wiremock: endpoint modes, retries, timeouts, errors, login
//! detection, redaction.

use std::time::Duration;

use kubeflow_core::config::{RetryPolicy, Timeouts};
use kubeflow_core::error::{ErrorFormat, TimeoutKind};
use kubeflow_core::{Credentials, Endpoint, Error, KubeflowClient, KubeflowConfig};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}

fn direct(server: &MockServer) -> KubeflowConfig {
    KubeflowConfig::new(Endpoint::direct(&server.uri()).expect("mock URL")).retry(fast_retry())
}

/// A catch-all that fails loudly with the request nobody expected.
async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(599)
                .set_body_string(format!("unexpected request: {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

#[tokio::test]
async fn gateway_prefix_direct_and_user_agent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pipeline/apis/v2beta1/healthz"))
        .and(header("user-agent", kubeflow_core::USER_AGENT))
        .and(header("x-team", "ml"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"multi_user": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/healthz"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"multi_user": false})))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;

    let gw =
        KubeflowConfig::new(Endpoint::gateway(&server.uri()).expect("url")).header("x-team", "ml");
    let kf = KubeflowClient::new(gw).expect("client");
    let v: Value = kf
        .service("pipeline")
        .expect("svc")
        .get("/apis/v2beta1/healthz")
        .send_json()
        .await
        .expect("healthz");
    assert_eq!(v["multi_user"], true);

    let kf = KubeflowClient::new(direct(&server)).expect("client");
    let v: Value = kf
        .service("pipeline")
        .expect("svc")
        .get("apis/v2beta1/healthz")
        .send_json()
        .await
        .expect("healthz");
    assert_eq!(v["multi_user"], false);
}

#[tokio::test]
async fn query_and_json_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/apis/v2beta1/experiments"))
        .and(query_param("namespace", "team a"))
        .and(body_json(json!({"display_name": "e1"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"experiment_id": "x"})))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let kf = KubeflowClient::new(direct(&server)).expect("client");
    #[derive(serde::Serialize)]
    struct Q<'a> {
        namespace: &'a str,
        page_token: Option<&'a str>,
    }
    let v: Value = kf
        .service("")
        .expect("svc")
        .post("apis/v2beta1/experiments")
        .query(&Q {
            namespace: "team a",
            page_token: None,
        })
        .json(&json!({"display_name": "e1"}))
        .send_json()
        .await
        .expect("create");
    assert_eq!(v["experiment_id"], "x");
}

#[tokio::test]
async fn idempotent_requests_are_retried_and_post_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/create"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"code": 14, "message": "unavailable"})),
        )
        .mount(&server)
        .await;
    catch_all(&server).await;
    let http = KubeflowClient::new(direct(&server))
        .expect("client")
        .service("")
        .expect("svc");
    let resp = http
        .get("flaky")
        .send()
        .await
        .expect("third attempt succeeds");
    assert_eq!(resp.attempts, 3);
    assert_eq!(resp.text(), "ok");

    let err = http
        .post("create")
        .json(&json!({}))
        .send()
        .await
        .expect_err("POST is not retried");
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        err.api_error().map(|e| e.message.as_str()),
        Some("unavailable")
    );
    // `.idempotent(true)` opts a POST in.
    let err = http
        .post("create")
        .idempotent(true)
        .send()
        .await
        .expect_err("still 503");
    assert_eq!(err.status(), Some(503));
    // 1 (first POST) + 3 (idempotent POST) requests reached /create; the mock expects 1 only
    // for plain POSTs, so count them by hand.
    let creates = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/create")
        .count();
    assert_eq!(creates, 4);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_string("<html><title>502 Bad Gateway</title></html>"),
        )
        .expect(3)
        .mount(&server)
        .await;
    let http = KubeflowClient::new(direct(&server))
        .expect("client")
        .service("")
        .expect("svc");
    let err = http.get("x").send().await.expect_err("gives up");
    let api = err.api_error().expect("api error");
    assert_eq!(api.status, 502);
    assert_eq!(api.format, ErrorFormat::Text);
    assert!(api.message.contains("502 Bad Gateway"), "{}", api.message);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    // The backoff would be 30 s; Retry-After says 0 s. With a 5 s operation limit, the call
    // only succeeds if Retry-After is used.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let cfg = direct(&server)
        .retry(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_secs(30))
                .with_max_backoff(Duration::from_secs(30)),
        )
        .operation_timeout(Duration::from_secs(5));
    let http = KubeflowClient::new(cfg)
        .expect("client")
        .service("")
        .expect("svc");
    let resp = http
        .get("x")
        .send()
        .await
        .expect("retried after Retry-After");
    assert_eq!(resp.attempts, 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"code": 5, "message": "not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let http = KubeflowClient::new(direct(&server))
        .expect("client")
        .service("")
        .expect("svc");
    let err = http.get("x").send().await.expect_err("404");
    assert!(err.is_not_found());
}

#[tokio::test]
async fn connect_errors_are_retried_then_reported() {
    // A port that nothing listens on: bind, take the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let cfg =
        KubeflowConfig::new(Endpoint::direct(&format!("http://127.0.0.1:{port}")).expect("url"))
            .retry(fast_retry());
    let http = KubeflowClient::new(cfg)
        .expect("client")
        .service("")
        .expect("svc");
    let err = http
        .get("apis/v2beta1/runs?x=secret-query")
        .send()
        .await
        .expect_err("refused");
    match &err {
        Error::Transport {
            attempts_text,
            path,
            ..
        } => {
            assert_eq!(attempts_text, " (after 3 attempts)");
            assert!(!path.contains('?'));
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn attempt_and_operation_timeouts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let cfg = direct(&server).retry(RetryPolicy::disabled()).timeouts({
        let mut t = Timeouts::default();
        t.attempt = Duration::from_millis(200);
        t
    });
    let http = KubeflowClient::new(cfg)
        .expect("client")
        .service("")
        .expect("svc");
    match http.get("slow").send().await {
        Err(Error::Timeout { kind, .. }) => assert_eq!(kind, TimeoutKind::Attempt),
        other => panic!("expected an attempt timeout, got {other:?}"),
    }
    let cfg = direct(&server).operation_timeout(Duration::from_millis(300));
    let http = KubeflowClient::new(cfg)
        .expect("client")
        .service("")
        .expect("svc");
    match http.get("slow").send().await {
        Err(Error::Timeout { kind, .. }) => assert_eq!(kind, TimeoutKind::Operation),
        other => panic!("expected an operation timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn gateway_login_page_and_redirect_become_not_authenticated() {
    let server = MockServer::start().await;
    Mock::given(path("/pipeline/apis/v2beta1/runs"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            "/dex/auth?client_id=kubeflow-oidc-authservice&state=x",
        ))
        .mount(&server)
        .await;
    Mock::given(path("/jupyter/api/namespaces"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_string("<!DOCTYPE html><html><body><form action=\"/oauth2/start\">Sign in with Dex</form></body></html>"),
        )
        .mount(&server)
        .await;
    let gw = KubeflowConfig::new(Endpoint::gateway(&server.uri()).expect("url"));
    let kf = KubeflowClient::new(gw).expect("client");
    for (svc, p) in [
        ("pipeline", "apis/v2beta1/runs"),
        ("jupyter", "api/namespaces"),
    ] {
        let err = kf
            .service(svc)
            .expect("svc")
            .get(p)
            .send()
            .await
            .expect_err("login wanted");
        assert!(matches!(err, Error::NotAuthenticated { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("not authenticated to the Kubeflow gateway"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"runs": [{"run_id": 7}]})))
        .mount(&server)
        .await;
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Runs {
        runs: Vec<Run>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Run {
        run_id: String,
    }
    let http = KubeflowClient::new(direct(&server))
        .expect("client")
        .service("")
        .expect("svc");
    let err = http
        .get("apis/v2beta1/runs")
        .send_json::<Runs>()
        .await
        .expect_err("bad type");
    match err {
        Error::Decode(d) => {
            assert_eq!(d.json_path, "runs[0].run_id");
            assert!(d.snippet.contains("run_id"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn kube_proxy_endpoint_goes_through_the_api_server() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/api/v1/namespaces/kubeflow/services/ml-pipeline:http/proxy/apis/v2beta1/healthz",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"multi_user": true})))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let kube_config = kube::Config::new(server.uri().parse().expect("uri"));
    let cfg = KubeflowConfig::new(Endpoint::kfp_kube_proxy("kubeflow"))
        .credentials(Credentials::Kube)
        .kube_config(kube_config);
    let kf = KubeflowClient::new(cfg).expect("client");
    let v: Value = kf
        .service("pipeline")
        .expect("svc")
        .get("apis/v2beta1/healthz")
        .send_json()
        .await
        .expect("healthz");
    assert_eq!(v["multi_user"], true);
}

#[tokio::test]
async fn endpoints_needing_kubernetes_say_so() {
    let err = KubeflowClient::new(KubeflowConfig::new(Endpoint::kfp_kube_proxy("kubeflow")))
        .expect_err("no kube");
    assert!(
        err.to_string().contains("no Kubernetes configuration"),
        "{err}"
    );
}

#[tokio::test]
async fn one_reauthentication_on_401_for_refreshable_credentials() {
    let dir = tempfile::tempdir().expect("tmp");
    let token = dir.path().join("token");
    std::fs::write(&token, "old-token\n").expect("write");
    let server = MockServer::start().await;
    // The server rotates the token (as the kubelet does) and refuses the old one.
    let rotate_to = token.clone();
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer old-token"))
        .respond_with(move |_: &Request| {
            let _ = std::fs::write(&rotate_to, "new-token-longer\n");
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 16, "message": "token expired"}))
        })
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer new-token-longer"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let cfg = direct(&server).credentials(Credentials::token_file(&token));
    let http = KubeflowClient::new(cfg)
        .expect("client")
        .service("")
        .expect("svc");
    let resp = http.get("x").send().await.expect("re-read token accepted");
    assert_eq!(resp.text(), "ok");
    assert_eq!(resp.attempts, 1, "a re-authentication is not a retry");
}

#[tokio::test]
async fn a_second_401_is_returned_and_static_tokens_are_not_refreshed() {
    let dir = tempfile::tempdir().expect("tmp");
    let token = dir.path().join("token");
    std::fs::write(&token, "never-good").expect("write");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": 16, "message": "Unauthenticated"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    // Token file: refreshed once, then the 401 is returned (2 requests).
    let http = KubeflowClient::new(direct(&server).credentials(Credentials::token_file(&token)))
        .expect("client")
        .service("")
        .expect("svc");
    let err = http.get("x").send().await.expect_err("still 401");
    assert_eq!(err.status(), Some(401));
    // A static bearer token cannot be refreshed: one request.
    let http = KubeflowClient::new(direct(&server).credentials(Credentials::bearer("static")))
        .expect("client")
        .service("")
        .expect("svc");
    let err = http.get("x").send().await.expect_err("401");
    assert_eq!(
        err.api_error().map(|e| e.message.as_str()),
        Some("Unauthenticated")
    );
}

#[tokio::test]
async fn bring_your_own_reqwest_and_kube_clients() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/healthz"))
        .and(header("x-from-my-client", "yes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"multi_user": false})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/api/v1/namespaces/kubeflow/services/ml-pipeline:http/proxy/apis/v2beta1/healthz",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"multi_user": true})))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let mut headers = http::HeaderMap::new();
    headers.insert("x-from-my-client", http::HeaderValue::from_static("yes"));
    let mine = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("reqwest");
    let kf = KubeflowClient::builder(direct(&server))
        .http_client(mine)
        .build()
        .expect("client");
    let v: Value = kf
        .service("")
        .expect("svc")
        .get("apis/v2beta1/healthz")
        .send_json()
        .await
        .expect("healthz");
    assert_eq!(v["multi_user"], false);

    let kube = kube::Client::try_from(kube::Config::new(server.uri().parse().expect("uri")))
        .expect("kube");
    let kf = KubeflowClient::builder(KubeflowConfig::new(Endpoint::kfp_kube_proxy("kubeflow")))
        .kube_client(kube)
        .build()
        .expect("client with my kube::Client");
    let v: Value = kf
        .service("pipeline")
        .expect("svc")
        .get("apis/v2beta1/healthz")
        .send_json()
        .await
        .expect("healthz");
    assert_eq!(v["multi_user"], true);
}
