//! List 10,000 runs (50 pages of 200) from one local fake KFP server, with this crate and with
//! the Python `kfp.Client` (same server, same machine, same run), and print wall time and peak
//! memory of each, and their ratios.
//!
//! ```text
//! KUBEFLOW_TEST_PYTHON=/path/to/venv/bin/python cargo bench -p kubeflow-pipelines --bench list_runs
//! ```
//!
//! `KUBEFLOW_TEST_PYTHON` is a python with `kfp` installed (the venv that
//! `testenv/kserve/build.sh` makes has kfp 2.17). Without it only the Rust side runs.
//!
//! Each client runs in a process of its own (this binary re-executed with `client URL`, and
//! `python -c`), so that the peak resident memory (`VmHWM`, `ru_maxrss`) is the client's alone;
//! the server lives in this process. Each side runs `KFP_BENCH_ROUNDS` times (default 3); the
//! best wall time and the largest peak memory are kept.

use std::process::{Command, Stdio};
use std::time::Instant;

use futures::TryStreamExt;
use kubeflow_pipelines::kubeflow_core::config::RetryPolicy;
use kubeflow_pipelines::kubeflow_core::{Credentials, Endpoint};
use kubeflow_pipelines::{KubeflowConfig, PipelinesClient};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PAGES: usize = 50;
const PAGE_SIZE: usize = 200;

/// A run shaped like a real server's answer (a finished two-task run).
fn run(i: usize) -> Value {
    let id = format!("{i:08x}-5e3c-4d6a-9b1f-0c2d3e4f5a6b");
    let task = |name: &str, n: usize| {
        json!({
            "run_id": id, "task_id": format!("{id}-{n}"), "display_name": name,
            "create_time": "2026-11-30T08:00:01Z", "start_time": "2026-11-30T08:00:02Z",
            "end_time": "2026-11-30T08:03:02Z", "state": "SUCCEEDED",
            "execution_id": format!("{}", 1000 + i * 3 + n),
            "executor_detail": {"main_job": format!("two-step-{i}-{n}")},
            "outputs": {"Output": {"artifact_ids": [format!("{}", 5000 + i * 3 + n)]}},
            "pod_name": format!("two-step-{i}-system-container-impl-{n}"),
            "state_history": [
                {"update_time": "2026-11-30T08:00:01Z", "state": "PENDING"},
                {"update_time": "2026-11-30T08:00:02Z", "state": "RUNNING"},
                {"update_time": "2026-11-30T08:03:02Z", "state": "SUCCEEDED"}
            ]
        })
    };
    json!({
        "experiment_id": "0b3a5c1e-7d2f-4e8a-9c6b-1a2b3c4d5e6f",
        "run_id": id,
        "display_name": format!("two-step run {i}"),
        "storage_state": "AVAILABLE",
        "pipeline_version_reference": {"pipeline_id": "pl-1", "pipeline_version_id": "pv-1"},
        "runtime_config": {"parameters": {"x": 1.0, "y": 2.0}, "pipeline_root": "minio://mlpipeline/v2/artifacts"},
        "service_account": "pipeline-runner",
        "created_at": "2026-11-30T08:00:00Z",
        "scheduled_at": "2026-11-30T08:00:00Z",
        "finished_at": "2026-11-30T08:03:05Z",
        "state": "SUCCEEDED",
        "run_details": {
            "pipeline_context_id": "12",
            "pipeline_run_context_id": format!("{}", 100 + i),
            "task_details": [task("add", 1), task("add-2", 2)]
        },
        "state_history": [
            {"update_time": "2026-11-30T08:00:00Z", "state": "PENDING"},
            {"update_time": "2026-11-30T08:00:02Z", "state": "RUNNING"},
            {"update_time": "2026-11-30T08:03:05Z", "state": "SUCCEEDED"}
        ]
    })
}

fn pages() -> Vec<Vec<u8>> {
    (0..PAGES)
        .map(|p| {
            let runs: Vec<Value> = (0..PAGE_SIZE).map(|i| run(p * PAGE_SIZE + i)).collect();
            let mut body = json!({"runs": runs, "total_size": PAGES * PAGE_SIZE});
            if p + 1 < PAGES {
                body["next_page_token"] = json!(format!("page-{}", p + 1));
            }
            serde_json::to_vec(&body).unwrap_or_default()
        })
        .collect()
}

/// Peak resident set of this process, in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Child mode: list every run from `url`, print `{items, list_s, peak_rss_kib}`.
fn client(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let config = KubeflowConfig::new(Endpoint::direct(url)?)
            .credentials(Credentials::bearer("bench"))
            .retry(RetryPolicy::disabled());
        let kfp = PipelinesClient::from_config(config)?;
        let started = Instant::now();
        let mut stream = kfp.runs().list().page_size(PAGE_SIZE as u32).stream();
        let mut items = 0usize;
        let mut tasks = 0usize;
        while let Some(run) = stream.try_next().await? {
            items += 1;
            tasks += run.run_details.map(|d| d.task_details.len()).unwrap_or(0);
        }
        let list_s = started.elapsed().as_secs_f64();
        println!(
            "{}",
            json!({"items": items, "tasks": tasks, "list_s": list_s, "peak_rss_kib": peak_rss_kib()})
        );
        Ok(())
    })
}

const PYTHON: &str = r#"
import json, resource, sys, time
t0 = time.perf_counter()
import kfp
client = kfp.Client(host=sys.argv[1], existing_token="bench", namespace="bench")
t1 = time.perf_counter()
items = tasks = 0
token = ""
while True:
    page = client.list_runs(page_token=token, page_size=200)
    for run in page.runs or []:
        items += 1
        tasks += len(run.run_details.task_details or []) if run.run_details else 0
    token = page.next_page_token
    if not token:
        break
t2 = time.perf_counter()
print(json.dumps({"items": items, "tasks": tasks, "list_s": t2 - t1, "import_s": t1 - t0,
                  "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"#;

#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    list: f64,
    process: f64,
    peak_kib: u64,
}

fn measure(mut cmd: Command, rounds: usize, what: &str) -> Option<Figures> {
    let mut best: Option<Figures> = None;
    for _ in 0..rounds {
        let started = Instant::now();
        let out = match cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).output() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{what}: could not start: {e}");
                return None;
            }
        };
        let process = started.elapsed().as_secs_f64();
        let line = String::from_utf8_lossy(&out.stdout);
        let v: Value = match serde_json::from_str(line.trim().lines().last().unwrap_or("")) {
            Ok(v) if out.status.success() => v,
            _ => {
                eprintln!(
                    "{what} failed ({}):\n{}\n{}",
                    out.status,
                    line,
                    String::from_utf8_lossy(&out.stderr)
                );
                return None;
            }
        };
        let items = v["items"].as_u64().unwrap_or(0);
        let tasks = v["tasks"].as_u64().unwrap_or(0);
        if items != (PAGES * PAGE_SIZE) as u64 || tasks != 2 * items {
            eprintln!(
                "{what}: listed {items} runs and {tasks} tasks, expected {} and {}",
                PAGES * PAGE_SIZE,
                2 * PAGES * PAGE_SIZE
            );
            return None;
        }
        let f = Figures {
            list: v["list_s"].as_f64().unwrap_or(f64::NAN),
            process,
            peak_kib: v["peak_rss_kib"].as_u64().unwrap_or(0),
        };
        best = Some(match best {
            None => f,
            Some(b) => Figures {
                list: b.list.min(f.list),
                process: b.process.min(f.process),
                peak_kib: b.peak_kib.max(f.peak_kib),
            },
        });
    }
    best
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("client") {
        return client(args.get(2).map(String::as_str).unwrap_or_default());
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need: run once.
    let rounds: usize = std::env::var("KFP_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let rt = tokio::runtime::Runtime::new()?;
    let server = rt.block_on(MockServer::start());
    let bodies = pages();
    let total_mib = bodies.iter().map(Vec::len).sum::<usize>() as f64 / (1 << 20) as f64;
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/apis/v2beta1/runs"))
            .respond_with(move |req: &Request| {
                let token = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "page_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let page = token
                    .strip_prefix("page-")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
                match bodies.get(page) {
                    Some(b) => {
                        ResponseTemplate::new(200).set_body_raw(b.clone(), "application/json")
                    }
                    None => ResponseTemplate::new(400),
                }
            })
            .mount(&server),
    );
    rt.block_on(
        Mock::given(method("GET"))
            .and(path("/apis/v2beta1/healthz"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"multi_user": false})))
            .mount(&server),
    );
    let url = server.uri();
    println!(
        "fake KFP at {url}: {} runs in {PAGES} pages of {PAGE_SIZE} ({total_mib:.1} MiB of JSON); best of {rounds}",
        PAGES * PAGE_SIZE
    );

    let mut rust_cmd = Command::new(std::env::current_exe()?);
    rust_cmd.arg("client").arg(&url);
    let rust = measure(rust_cmd, rounds, "kubeflow-pipelines").ok_or("the Rust client failed")?;
    println!(
        "kubeflow-pipelines: list {:>8.3} s   process {:>8.3} s   peak RSS {:>8.1} MiB",
        rust.list,
        rust.process,
        rust.peak_kib as f64 / 1024.0
    );

    let Ok(python) = std::env::var("KUBEFLOW_TEST_PYTHON") else {
        println!("KUBEFLOW_TEST_PYTHON is not set: skipping the Python kfp.Client side");
        return Ok(());
    };
    let home = std::env::temp_dir().join(format!("kfp-bench-home-{}", std::process::id()));
    std::fs::create_dir_all(&home)?;
    let mut py_cmd = Command::new(&python);
    py_cmd
        .arg("-c")
        .arg(PYTHON)
        .arg(&url)
        // kfp may write ~/.config/kfp: keep it out of the real home.
        .env("HOME", &home)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    let py = measure(py_cmd, rounds, "kfp.Client");
    let _ = std::fs::remove_dir_all(&home);
    let py = py.ok_or("the Python client failed")?;
    println!(
        "kfp.Client (Python): list {:>8.3} s   process {:>8.3} s   peak RSS {:>8.1} MiB",
        py.list,
        py.process,
        py.peak_kib as f64 / 1024.0
    );
    println!(
        "ratios (Python / Rust): listing time {:.1}x, process time {:.1}x, peak memory {:.1}x",
        py.list / rust.list,
        py.process / rust.process,
        py.peak_kib as f64 / rust.peak_kib.max(1) as f64
    );
    Ok(())
}
