//! Port-forward: Service → pod → port resolution, and connection handling, against a wiremock
//! "apiserver".

use std::time::Duration;

use kubeflow_core::portforward::{Error, PortForward, PortForwardEvent};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NS: &str = "kubeflow";

fn client(server: &MockServer) -> Result<kube::Client, Box<dyn std::error::Error>> {
    let config = kube::Config::new(server.uri().parse()?);
    Ok(kube::Client::try_from(config)?)
}

fn service(selector: Option<Value>, ports: Value) -> Value {
    let mut spec = json!({ "ports": ports });
    if let Some(sel) = selector {
        spec["selector"] = sel;
    }
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": "ml-pipeline", "namespace": NS },
        "spec": spec,
    })
}

fn kfp_ports() -> Value {
    json!([
        { "name": "http", "port": 8888, "protocol": "TCP", "targetPort": 8888 },
        { "name": "grpc", "port": 8887, "protocol": "TCP", "targetPort": "grpc-api" },
        { "name": "metrics", "port": 9090, "protocol": "TCP" },
    ])
}

/// A pod; `state` is "ready", "not-ready", "pending" or "terminating".
fn pod(name: &str, created: &str, state: &str) -> Value {
    let phase = if state == "pending" {
        "Pending"
    } else {
        "Running"
    };
    let ready = if state == "ready" || state == "terminating" {
        "True"
    } else {
        "False"
    };
    let mut metadata = json!({
        "name": name, "namespace": NS, "creationTimestamp": created,
        "labels": { "app": "ml-pipeline" },
    });
    if state == "terminating" {
        metadata["deletionTimestamp"] = json!("2026-11-30T10:00:00Z");
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": metadata,
        "spec": { "containers": [{
            "name": "api", "image": "kfp-api",
            "ports": [
                { "name": "http", "containerPort": 8888 },
                { "name": "grpc-api", "containerPort": 18887 },
            ],
        }]},
        "status": {
            "phase": phase,
            "conditions": [{ "type": "Ready", "status": ready }],
        },
    })
}

fn pod_list(pods: Vec<Value>) -> Value {
    json!({ "apiVersion": "v1", "kind": "PodList", "metadata": { "resourceVersion": "1" }, "items": pods })
}

fn not_found(what: &str) -> ResponseTemplate {
    ResponseTemplate::new(404).set_body_json(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("{what} not found"), "reason": "NotFound", "code": 404,
    }))
}

async fn mount_service(server: &MockServer, svc: Value) {
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/v1/namespaces/{NS}/services/ml-pipeline"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(svc))
        .mount(server)
        .await;
}

async fn mount_pods(server: &MockServer, pods: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/namespaces/{NS}/pods")))
        .and(query_param("labelSelector", "app=ml-pipeline"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pod_list(pods)))
        .mount(server)
        .await;
}

async fn setup(
    svc: Value,
    pods: Vec<Value>,
) -> Result<(MockServer, kube::Client), Box<dyn std::error::Error>> {
    let server = MockServer::start().await;
    mount_service(&server, svc).await;
    mount_pods(&server, pods).await;
    let c = client(&server)?;
    Ok((server, c))
}

fn standard_pods() -> Vec<Value> {
    vec![
        pod("old", "2026-11-01T00:00:00Z", "ready"),
        pod("newest-terminating", "2026-11-30T09:00:00Z", "terminating"),
        pod("newest-not-ready", "2026-11-30T08:00:00Z", "not-ready"),
        pod("newest-pending", "2026-11-29T08:00:00Z", "pending"),
        pod("new", "2026-11-20T00:00:00Z", "ready"),
    ]
}

#[tokio::test]
async fn int_target_port_newest_ready_pod() -> TestResult {
    let (_server, c) = setup(
        service(Some(json!({"app": "ml-pipeline"})), kfp_ports()),
        standard_pods(),
    )
    .await?;
    let r = PortForward::to_service(c, NS, "ml-pipeline", 8888)
        .resolve()
        .await?;
    assert_eq!(
        r.pod, "new",
        "terminating, not-ready and pending pods are skipped, the newest wins"
    );
    assert_eq!(r.port, 8888);
    Ok(())
}

#[tokio::test]
async fn named_target_port_is_looked_up_in_the_pod() -> TestResult {
    let (_server, c) = setup(
        service(Some(json!({"app": "ml-pipeline"})), kfp_ports()),
        standard_pods(),
    )
    .await?;
    let r = PortForward::to_service(c, NS, "ml-pipeline", 8887)
        .resolve()
        .await?;
    assert_eq!((r.pod.as_str(), r.port), ("new", 18887));
    Ok(())
}

#[tokio::test]
async fn missing_target_port_means_the_service_port() -> TestResult {
    let (_server, c) = setup(
        service(Some(json!({"app": "ml-pipeline"})), kfp_ports()),
        standard_pods(),
    )
    .await?;
    let r = PortForward::to_service(c, NS, "ml-pipeline", 9090)
        .resolve()
        .await?;
    assert_eq!(r.port, 9090);
    Ok(())
}

#[tokio::test]
async fn unknown_service_port_lists_the_ports() -> TestResult {
    let (_server, c) = setup(
        service(Some(json!({"app": "ml-pipeline"})), kfp_ports()),
        standard_pods(),
    )
    .await?;
    let err = PortForward::to_service(c, NS, "ml-pipeline", 9999)
        .resolve()
        .await
        .err()
        .ok_or("expected an error")?;
    assert!(
        matches!(err, Error::NoSuchServicePort { port: 9999, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "service kubeflow/ml-pipeline has no port 9999 (ports: 8888/http, 8887/grpc, 9090/metrics)"
    );
    Ok(())
}

#[tokio::test]
async fn service_without_selector() -> TestResult {
    let (_server, c) = setup(service(None, kfp_ports()), standard_pods()).await?;
    let err = PortForward::to_service(c, NS, "ml-pipeline", 8888)
        .start()
        .await
        .err()
        .ok_or("expected an error")?;
    assert!(matches!(err, Error::NoSelector { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("service kubeflow/ml-pipeline has no selector"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn no_ready_pod() -> TestResult {
    let pods = vec![
        pod("a", "2026-11-30T09:00:00Z", "terminating"),
        pod("b", "2026-11-30T08:00:00Z", "not-ready"),
    ];
    let (_server, c) = setup(
        service(Some(json!({"app": "ml-pipeline"})), kfp_ports()),
        pods,
    )
    .await?;
    let err = PortForward::to_service(c, NS, "ml-pipeline", 8888)
        .start()
        .await
        .err()
        .ok_or("expected an error")?;
    assert!(
        matches!(err, Error::NoReadyPod { matched: 2, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("no Ready pod matches app=ml-pipeline in kubeflow"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn named_port_missing_from_pod() -> TestResult {
    let ports = json!([{ "name": "web", "port": 80, "targetPort": "nope" }]);
    let (_server, c) = setup(
        service(Some(json!({"app": "ml-pipeline"})), ports),
        standard_pods(),
    )
    .await?;
    let err = PortForward::to_service(c, NS, "ml-pipeline", 80)
        .resolve()
        .await
        .err()
        .ok_or("expected an error")?;
    assert!(
        matches!(&err, Error::NamedPortNotFound { name, pod, .. } if name == "nope" && pod == "new"),
        "{err:?}"
    );
    Ok(())
}

#[tokio::test]
async fn missing_service_names_it() -> TestResult {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/namespaces/{NS}/services/nope")))
        .respond_with(not_found("services \"nope\""))
        .mount(&server)
        .await;
    let err = PortForward::to_service(client(&server)?, NS, "nope", 80)
        .resolve()
        .await
        .err()
        .ok_or("expected an error")?;
    assert!(
        err.to_string()
            .starts_with("getting service kubeflow/nope: "),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn to_pod_checks_the_pod() -> TestResult {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/namespaces/{NS}/pods/gone")))
        .respond_with(ResponseTemplate::new(200).set_body_json(pod(
            "gone",
            "2026-11-30T09:00:00Z",
            "terminating",
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/namespaces/{NS}/pods/ok")))
        .respond_with(ResponseTemplate::new(200).set_body_json(pod(
            "ok",
            "2026-11-30T09:00:00Z",
            "ready",
        )))
        .mount(&server)
        .await;
    let c = client(&server)?;
    let err = PortForward::to_pod(c.clone(), NS, "gone", 80)
        .resolve()
        .await
        .err()
        .ok_or("expected an error")?;
    assert_eq!(
        err.to_string(),
        "pod kubeflow/gone cannot be forwarded to: it is terminating"
    );
    let r = PortForward::to_pod(c, NS, "ok", 8080).resolve().await?;
    assert_eq!((r.pod.as_str(), r.port), ("ok", 8080));
    Ok(())
}

/// The pod goes away between resolution and the first connection: the forward re-resolves the
/// Service to another pod and retries the connection once; the error is surfaced and counted,
/// and the listener keeps running.
#[tokio::test]
async fn pod_gone_re_resolves_and_keeps_listening() -> TestResult {
    let server = MockServer::start().await;
    mount_service(
        &server,
        service(Some(json!({"app": "ml-pipeline"})), kfp_ports()),
    )
    .await;
    // First listing: pod "first"; afterwards only pod "second".
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/namespaces/{NS}/pods")))
        .and(query_param("labelSelector", "app=ml-pipeline"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pod_list(vec![pod(
            "first",
            "2026-11-30T09:00:00Z",
            "ready",
        )])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_pods(
        &server,
        vec![pod("second", "2026-11-30T09:30:00Z", "ready")],
    )
    .await;
    for name in ["first", "second"] {
        Mock::given(method("GET"))
            .and(path(format!(
                "/api/v1/namespaces/{NS}/pods/{name}/portforward"
            )))
            .respond_with(not_found(&format!("pods \"{name}\"")))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/namespaces/{NS}/pods/first")))
        .respond_with(not_found("pods \"first\""))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/namespaces/{NS}/pods/second")))
        .respond_with(ResponseTemplate::new(200).set_body_json(pod(
            "second",
            "2026-11-30T09:30:00Z",
            "ready",
        )))
        .mount(&server)
        .await;

    let handle = PortForward::to_service(client(&server)?, NS, "ml-pipeline", 8888)
        .start()
        .await?;
    assert_eq!(handle.pod(), "first");
    assert_eq!(handle.local_addr().ip().to_string(), "127.0.0.1");
    let mut events = handle.events();

    let mut conn = tokio::net::TcpStream::connect(handle.local_addr()).await?;
    let mut buf = Vec::new();
    // The forward fails, so the local connection is closed without data.
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut buf)).await??;
    assert!(buf.is_empty());

    let mut seen = Vec::new();
    while seen.len() < 2 {
        seen.push(tokio::time::timeout(Duration::from_secs(10), events.recv()).await??);
    }
    assert_eq!(
        seen[0],
        PortForwardEvent::PodChanged {
            from: "first".into(),
            to: "second".into()
        }
    );
    match &seen[1] {
        PortForwardEvent::Error { message, .. } => {
            assert!(
                message.contains("forwarding to pod kubeflow/second port 8888"),
                "{message}"
            );
            assert!(message.contains("not found"), "{message}");
        }
        other => panic!("expected an error event, got {other:?}"),
    }
    assert_eq!(handle.pod(), "second");
    let stats = handle.stats();
    assert_eq!(
        (
            stats.connections,
            stats.errors,
            stats.pod_changes,
            stats.active
        ),
        (1, 1, 1, 0)
    );

    // The listener is still running: a second connection is accepted and handled.
    assert!(handle.is_running());
    let mut conn = tokio::net::TcpStream::connect(handle.local_addr()).await?;
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut buf)).await??;
    let event = tokio::time::timeout(Duration::from_secs(10), events.recv()).await??;
    assert!(matches!(event, PortForwardEvent::Error { .. }), "{event:?}");
    assert_eq!(handle.stats().connections, 2);

    let addr = handle.local_addr();
    handle.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed after stop()"
    );
    Ok(())
}

#[tokio::test]
async fn dropping_the_handle_closes_the_listener() -> TestResult {
    let (_server, c) = setup(
        service(Some(json!({"app": "ml-pipeline"})), kfp_ports()),
        standard_pods(),
    )
    .await?;
    let handle = PortForward::to_service(c, NS, "ml-pipeline", 8888)
        .start()
        .await?;
    let addr = handle.local_addr();
    assert_ne!(addr.port(), 0);
    drop(handle);
    // Aborting is asynchronous: give the runtime a moment to drop the listener.
    let mut closed = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        closed,
        "the listener on {addr} is still open after the handle was dropped"
    );
    Ok(())
}
