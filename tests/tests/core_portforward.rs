//! kubeflow-core's native port-forward end to end: real kube-apiserver → kwok (the fake
//! kubelet) → a local server standing in for the pod, side by side with `kubectl port-forward`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams};
use kubeflow_core::portforward::PortForward;
use kubeflow_core::{Credentials, Endpoint, KubeflowClient, KubeflowConfig};
use kubeflow_test_support::k8s::{
    EchoServer, KwokPod, TestEnv, create_service, kubectl_port_forward, round_trip,
    unique_namespace,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8)
        .collect()
}

/// A tiny HTTP server answering every request with `body` (JSON), like the KFP API would.
async fn http_server(
    body: &'static str,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (rd, mut wr) = sock.into_split();
                let mut lines = BufReader::new(rd).lines();
                // Read one request head, answer, close.
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.is_empty() {
                        break;
                    }
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    body.len(),
                    body
                );
                let _ = wr.write_all(resp.as_bytes()).await;
                let _ = wr.shutdown().await;
            });
        }
    });
    Ok((addr, task))
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn service_forward_carries_bytes_like_kubectl() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "core-pf").await?;
    let echo = EchoServer::start().await?;
    KwokPod::new("echo-0")
        .label("app", "echo")
        .port("tcp-echo", 8080, echo.addr())
        .create(&client, env.kwok_node(), &ns)
        .await?;
    // The Service maps port 80 to the pod's *named* port.
    create_service(
        &client,
        &ns,
        "echo",
        BTreeMap::from([("app".to_owned(), "echo".to_owned())]),
        &[("http", 80, IntOrString::String("tcp-echo".into()))],
    )
    .await?;

    let pf = PortForward::to_service(client.clone(), &ns, "echo", 80)
        .start()
        .await?;
    assert_eq!(pf.pod(), "echo-0");
    assert_eq!(pf.pod_port(), 8080);
    let data = pattern(1 << 20);
    let back = round_trip(pf.local_addr().port(), &data).await?;
    assert!(
        back == data,
        "bytes changed on the way through our port-forward"
    );
    let back = round_trip(pf.local_addr().port(), b"hello kubeflow").await?;
    assert_eq!(back, b"hello kubeflow");
    let stats = pf.stats();
    assert_eq!(stats.connections, 2, "{stats:?}");
    assert_eq!(stats.errors, 0, "{stats:?}");

    // kubectl port-forward to the same service carries the same bytes.
    let (mut kubectl, port) = kubectl_port_forward(&env, &ns, "svc/echo", 80).await?;
    let back = round_trip(port, &data).await?;
    assert!(
        back == data,
        "bytes changed on the way through kubectl's port-forward"
    );
    kubectl.kill().await?;

    assert!(
        echo.connections() >= 3,
        "echo saw {} connections",
        echo.connections()
    );
    pf.stop().await;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn pod_forward_and_errors_name_what_is_missing() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "core-pf-pod").await?;
    let echo = EchoServer::start().await?;
    KwokPod::new("solo")
        .port("p", 7000, echo.addr())
        .create(&client, env.kwok_node(), &ns)
        .await?;
    let pf = PortForward::to_pod(client.clone(), &ns, "solo", 7000)
        .start()
        .await?;
    assert_eq!(round_trip(pf.local_addr().port(), b"ping").await?, b"ping");
    pf.stop().await;

    let err = PortForward::to_service(client.clone(), &ns, "no-such-service", 80)
        .start()
        .await
        .expect_err("no service");
    assert!(err.to_string().contains("no-such-service"), "{err}");
    create_service(
        &client,
        &ns,
        "nobody",
        BTreeMap::from([("app".to_owned(), "nobody".to_owned())]),
        &[("http", 80, IntOrString::Int(8080))],
    )
    .await?;
    let err = PortForward::to_service(client.clone(), &ns, "nobody", 80)
        .start()
        .await
        .expect_err("no pod");
    assert!(err.to_string().contains("no Ready pod"), "{err}");
    let err = PortForward::to_service(client, &ns, "nobody", 9999)
        .start()
        .await
        .expect_err("no such port");
    assert!(err.to_string().contains("9999"), "{err}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn a_replaced_pod_is_found_again() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "core-pf-move").await?;
    let first = EchoServer::start().await?;
    let second = EchoServer::start().await?;
    KwokPod::new("web-a")
        .label("app", "web")
        .port("http", 8080, first.addr())
        .create(&client, env.kwok_node(), &ns)
        .await?;
    create_service(
        &client,
        &ns,
        "web",
        BTreeMap::from([("app".to_owned(), "web".to_owned())]),
        &[("http", 80, IntOrString::Int(8080))],
    )
    .await?;
    let pf = PortForward::to_service(client.clone(), &ns, "web", 80)
        .start()
        .await?;
    assert_eq!(round_trip(pf.local_addr().port(), b"one").await?, b"one");
    assert_eq!(first.connections(), 1);

    // The pod goes away and another one takes its place.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    pods.delete("web-a", &DeleteParams::default().grace_period(0))
        .await?;
    for _ in 0..100 {
        if pods.get_opt("web-a").await?.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    KwokPod::new("web-b")
        .label("app", "web")
        .port("http", 8080, second.addr())
        .create(&client, env.kwok_node(), &ns)
        .await?;

    assert_eq!(round_trip(pf.local_addr().port(), b"two").await?, b"two");
    assert_eq!(pf.pod(), "web-b");
    assert!(second.connections() >= 1, "the new pod got no connection");
    assert!(pf.stats().pod_changes >= 1, "{:?}", pf.stats());
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn port_forward_endpoint_serves_http_clients() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "core-pf-http").await?;
    let (addr, _server) = http_server(r#"{"multi_user":false,"tag_name":"2.16.0"}"#).await?;
    KwokPod::new("ml-pipeline-0")
        .label("app", "ml-pipeline")
        .port("http", 8888, addr)
        .create(&client, env.kwok_node(), &ns)
        .await?;
    create_service(
        &client,
        &ns,
        "ml-pipeline",
        BTreeMap::from([("app".to_owned(), "ml-pipeline".to_owned())]),
        &[("http", 8888, IntOrString::String("http".into()))],
    )
    .await?;
    // KUBEFLOW_ENDPOINT=port-forward://<ns>/ml-pipeline:8888 — the forward starts on first use.
    let config = KubeflowConfig::new(Endpoint::parse(&format!(
        "port-forward://{ns}/ml-pipeline:8888"
    ))?)
    .credentials(Credentials::None)
    .kube_config(env.kube_config().await?);
    let kf = KubeflowClient::new(config)?;
    let kfp = kf.service("pipeline")?;
    for _ in 0..3 {
        let v: serde_json::Value = kfp.get("apis/v2beta1/healthz").send_json().await?;
        assert_eq!(v["tag_name"], "2.16.0");
    }
    Ok(())
}
