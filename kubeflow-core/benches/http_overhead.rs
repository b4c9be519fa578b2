//! Overhead of the SDK's HTTP layer: a GET through `HttpClient` versus the same GET with plain
//! reqwest, against the same minimal keep-alive HTTP/1.1 server on 127.0.0.1.
//!
//! `cargo bench -p kubeflow-core --bench http_overhead` prints criterion's timings (requests/s
//! is their inverse) and then a latency report (p50/p99 over sequential requests) for both.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use kubeflow_core::{Endpoint, KubeflowClient, KubeflowConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const BODY: &str = r#"{"multi_user":false,"commit_sha":"abc","tag_name":"2.16.0"}"#;

/// A tiny HTTP/1.1 server: answers every request with the same small JSON body, keep-alive.
async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        BODY.len(),
        BODY
    );
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut filled = 0;
                loop {
                    match sock.read(&mut buf[filled..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => filled += n,
                    }
                    // Answer each complete request head (GETs have no body).
                    while let Some(end) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                        if sock.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                        buf.copy_within(end + 4..filled, 0);
                        filled -= end + 4;
                    }
                    if filled == buf.len() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

struct Setup {
    rt: tokio::runtime::Runtime,
    sdk: kubeflow_core::http::HttpClient,
    plain: reqwest::Client,
    url: String,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = rt.block_on(serve());
    let base = format!("http://{addr}");
    let sdk = KubeflowClient::new(KubeflowConfig::new(Endpoint::direct(&base).expect("url")))
        .expect("client")
        .service("")
        .expect("service");
    let plain = reqwest::Client::builder().build().expect("reqwest");
    Setup {
        rt,
        sdk,
        plain,
        url: format!("{base}/apis/v2beta1/healthz"),
    }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let mut g = c.benchmark_group("get_healthz");
    g.bench_function("plain_reqwest", |b| {
        b.to_async(&s.rt).iter(|| async {
            let r = s.plain.get(&s.url).send().await.expect("send");
            let body = r.bytes().await.expect("body");
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            std::hint::black_box(v);
        })
    });
    g.bench_function("kubeflow_sdk", |b| {
        b.to_async(&s.rt).iter(|| async {
            let v: serde_json::Value = s
                .sdk
                .get("apis/v2beta1/healthz")
                .send_json()
                .await
                .expect("send");
            std::hint::black_box(v);
        })
    });
    g.finish();
}

fn percentiles(name: &str, mut samples: Vec<Duration>, total: Duration) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:>14}: {:>8.0} req/s  p50 {:>6.1} µs  p99 {:>6.1} µs  ({} sequential requests)",
        samples.len() as f64 / total.as_secs_f64(),
        p(0.50).as_secs_f64() * 1e6,
        p(0.99).as_secs_f64() * 1e6,
        samples.len()
    );
}

fn latency_report() {
    let s = setup();
    const N: usize = 5_000;
    // Warm both pools first; then alternate rounds so drift hits both alike.
    let mut plain = Vec::with_capacity(N);
    let mut sdk = Vec::with_capacity(N);
    let (mut plain_total, mut sdk_total) = (Duration::ZERO, Duration::ZERO);
    s.rt.block_on(async {
        for _ in 0..200 {
            let _ = s
                .plain
                .get(&s.url)
                .send()
                .await
                .expect("warm")
                .bytes()
                .await;
            let _: serde_json::Value = s
                .sdk
                .get("apis/v2beta1/healthz")
                .send_json()
                .await
                .expect("warm");
        }
        for round in 0..10 {
            let t = Instant::now();
            for _ in 0..N / 10 {
                let t0 = Instant::now();
                let body = s
                    .plain
                    .get(&s.url)
                    .send()
                    .await
                    .expect("send")
                    .bytes()
                    .await
                    .expect("body");
                let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
                std::hint::black_box(v);
                plain.push(t0.elapsed());
            }
            plain_total += t.elapsed();
            let t = Instant::now();
            for _ in 0..N / 10 {
                let t0 = Instant::now();
                let v: serde_json::Value = s
                    .sdk
                    .get("apis/v2beta1/healthz")
                    .send_json()
                    .await
                    .expect("send");
                std::hint::black_box(v);
                sdk.push(t0.elapsed());
            }
            sdk_total += t.elapsed();
            let _ = round;
        }
    });
    println!("\nLatency of a GET + JSON decode, same local keep-alive server:");
    percentiles("plain reqwest", plain, plain_total);
    percentiles("kubeflow SDK", sdk, sdk_total);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    latency_report();
}
