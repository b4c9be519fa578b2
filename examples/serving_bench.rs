//! Figures: V2 infer with kubeflow-serving's `InferenceClient` and with the Python `kserve`
//! REST client (`InferenceRESTClient`, same venv as the test environment) against the same real
//! KServe model server in the same run — throughput and client CPU time per 1,000 requests —
//! plus requests/s against a minimal local server (the client's own ceiling).
//! A benchmark program, not a test (figures are never asserted). Run it with the real model
//! server up:
//! `KF_TESTENV_COMPONENTS="kserve" scripts/test --exec cargo run --release -p kubeflow-examples --example serving_bench`.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use kubeflow_serving::{InferRequest, InferTensor, InferenceClient};
use kubeflow_test_support::python::{kserve_python, kserve_url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Requests per run: `KF_SERVING_BENCH_N` (default 200; the figures in the notes used 1000).
fn n() -> usize {
    std::env::var("KF_SERVING_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(200)
}

/// CPU time (user + system) of this process so far, from /proc/self/stat (clock ticks of 10 ms).
fn cpu_time() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after = stat.rsplit_once(')').context("stat format")?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = f.get(11).context("utime")?.parse()?;
    let stime: u64 = f.get(12).context("stime")?.parse()?;
    Ok(Duration::from_millis((utime + stime) * 10))
}

fn request() -> anyhow::Result<InferRequest> {
    Ok(InferRequest::new().id("bench").input(InferTensor::new(
        "input-0",
        vec![2, 3],
        vec![1f32, 2., 3., 4., 5., 6.],
    )?))
}

async fn rust_run(client: &InferenceClient, n: usize) -> anyhow::Result<(Duration, Duration)> {
    let req = request()?;
    client.infer("toy", &req).await?; // warm the connection
    let (t0, c0) = (Instant::now(), cpu_time()?);
    for _ in 0..n {
        let r = client.infer("toy", &req).await?;
        ensure!(r.outputs.len() == 2);
    }
    Ok((t0.elapsed(), cpu_time()?.saturating_sub(c0)))
}

const PY: &str = r#"
import asyncio, json, sys, time
import numpy as np
from kserve import InferenceRESTClient, RESTConfig, InferRequest, InferInput
async def main(url, n):
    c = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
    def req():
        i = InferInput(name="input-0", shape=[2, 3], datatype="FP32")
        i.set_data_from_numpy(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32), binary_data=False)
        return InferRequest(model_name="toy", infer_inputs=[i], request_id="bench")
    await c.infer(url, req(), model_name="toy")
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        r = await c.infer(url, req(), model_name="toy")
        assert len(r.outputs) == 2
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"#;

async fn python_run(url: &str, n: usize) -> anyhow::Result<(Duration, Duration)> {
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::process::Command::new(kserve_python())
            .arg("-c")
            .arg(PY)
            .arg(url)
            .arg(n.to_string())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .context("python client timed out")??;
    ensure!(
        out.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let wall = v["wall"].as_f64().context("wall")?;
    let cpu = v["cpu"].as_f64().context("cpu")?;
    Ok((Duration::from_secs_f64(wall), Duration::from_secs_f64(cpu)))
}

/// A minimal HTTP/1.1 keep-alive server on 127.0.0.1 answering every request with a fixed V2
/// response; stops when the test ends (the task is aborted).
async fn minimal_server() -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let body = br#"{"model_name":"toy","model_version":null,"id":"bench","parameters":null,"outputs":[{"name":"output0","shape":[2],"datatype":"FP32","parameters":null,"data":[6.0,15.0]},{"name":"output1","shape":[2],"datatype":"INT64","parameters":null,"data":[3,3]}]}"#;
    let response = [
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body.to_vec(),
    ]
    .concat();
    let task = tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = [0u8; 4096];
                loop {
                    // Read one request: headers, then content-length bytes.
                    let (head_end, len) = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    l.strip_prefix("content-length:")
                                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                                })
                                .unwrap_or(0);
                            break (p + 4, len);
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..head_end + len);
                    if sock.write_all(&response).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok((format!("http://{addr}"), task))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let reqs = n();
    let url = kserve_url();
    let client = InferenceClient::from_url(&url)?;
    // Interleaved: python, rust, python, rust — the same server, the same run.
    let mut rust = Vec::new();
    let mut py = Vec::new();
    for _ in 0..2 {
        py.push(python_run(&url, reqs).await?);
        rust.push(rust_run(&client, reqs).await?);
    }
    let best = |v: &[(Duration, Duration)]| {
        let wall = v.iter().map(|x| x.0).min().unwrap_or_default();
        let cpu = v.iter().map(|x| x.1).min().unwrap_or_default();
        (wall, cpu)
    };
    let (rw, rc) = best(&rust);
    let (pw, pc) = best(&py);
    let rps = |w: Duration| reqs as f64 / w.as_secs_f64();
    println!(
        "real KServe 0.21.0 toy model, {reqs} sequential V2 JSON infer requests (2x3 FP32), best of 2:"
    );
    println!(
        "  rust   kubeflow-serving: {:.0} req/s, client CPU {:.0} ms / 1000 req",
        rps(rw),
        rc.as_secs_f64() * 1000.0 * 1000.0 / reqs as f64
    );
    println!(
        "  python kserve REST     : {:.0} req/s, client CPU {:.0} ms / 1000 req",
        rps(pw),
        pc.as_secs_f64() * 1000.0 * 1000.0 / reqs as f64
    );
    println!(
        "  ratios rust/python: throughput x{:.2}, CPU per request x{:.3}",
        rps(rw) / rps(pw),
        rc.as_secs_f64() / pc.as_secs_f64().max(1e-9)
    );

    // The client's own ceiling against a minimal local server.
    let (murl, task) = minimal_server().await?;
    let mclient = InferenceClient::from_url(&murl)?;
    let (w, c) = rust_run(&mclient, 5 * reqs).await?;
    println!(
        "  minimal local server: {:.0} req/s sequential, client CPU {:.0} ms / 1000 req",
        5.0 * reqs as f64 / w.as_secs_f64(),
        c.as_secs_f64() * 1000.0 * 1000.0 / (5 * reqs) as f64
    );
    let req = request()?;
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = mclient.clone();
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..reqs {
                c.infer("toy", &req).await?;
            }
            Ok::<_, kubeflow_core::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    println!(
        "  minimal local server: {:.0} req/s with 8 concurrent callers",
        8.0 * reqs as f64 / t0.elapsed().as_secs_f64()
    );
    task.abort();
    Ok(())
}
