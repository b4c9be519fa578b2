//! kubeflow-katib's DB-manager client (feature `db-manager`) against a gRPC server generated
//! by the official `grpc_tools.protoc` from Katib's own `api.proto` (reference dir), run with
//! the real `grpcio` of the test environment's Python venv — directly, and through a
//! port-forward over the real API server and kwok, as `KatibClient::db_manager` reaches
//! `katib-db-manager:6789` in a cluster. The server keeps observations in memory (Katib's
//! stores them in MySQL with the same filters).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kubeflow_katib::db_manager::{DbManagerClient, MetricLog, ObservationLogQuery};
use kubeflow_katib::{Error, KatibClient};
use kubeflow_test_support::k8s::{
    KwokPod, TestEnv, create_service, reference_dir, unique_namespace,
};

const SERVER: &str = r#"
import sys, grpc
from concurrent import futures
sys.path.insert(0, sys.argv[1])
import api_pb2, api_pb2_grpc

class DBManager(api_pb2_grpc.DBManagerServicer):
    def __init__(self):
        self.logs = {}
    def ReportObservationLog(self, request, context):
        self.logs.setdefault(request.trial_name, []).extend(request.observation_log.metric_logs)
        return api_pb2.ReportObservationLogReply()
    def GetObservationLog(self, request, context):
        out = [l for l in self.logs.get(request.trial_name, [])
               if (not request.metric_name or l.metric.name == request.metric_name)
               and (not request.start_time or l.time_stamp >= request.start_time)
               and (not request.end_time or l.time_stamp <= request.end_time)]
        out.sort(key=lambda l: l.time_stamp)
        return api_pb2.GetObservationLogReply(observation_log=api_pb2.ObservationLog(metric_logs=out))
    def DeleteObservationLog(self, request, context):
        if request.trial_name == "boom":
            context.abort(grpc.StatusCode.INTERNAL, "db: 100% broken, see 'logs'")
        self.logs.pop(request.trial_name, None)
        return api_pb2.DeleteObservationLogReply()

server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
api_pb2_grpc.add_DBManagerServicer_to_server(DBManager(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
server.wait_for_termination(timeout=float(sys.argv[2]))
"#;

/// The Python gRPC server, stopped (by its PID) on drop.
struct PyServer {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_server() -> anyhow::Result<PyServer> {
    let python = std::env::var("KUBEFLOW_TEST_PYTHON").context(
        "KUBEFLOW_TEST_PYTHON is not set: run through scripts/test with the kserve component",
    )?;
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("katib-dbm-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let protos = reference_dir().join("katib/crds");
    let status = Command::new(&python)
        .args(["-m", "grpc_tools.protoc"])
        .arg(format!("-I{}", protos.display()))
        .arg(format!("--python_out={}", dir.display()))
        .arg(format!("--grpc_python_out={}", dir.display()))
        .arg(protos.join("api.proto"))
        .status()
        .context("running grpc_tools.protoc")?;
    ensure!(status.success(), "grpc_tools.protoc failed on api.proto");
    std::fs::write(dir.join("server.py"), SERVER)?;
    let mut child = Command::new(&python)
        .arg(dir.join("server.py"))
        .arg(&dir)
        .arg("120") // the server stops by itself after 120 s at most
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the gRPC server")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .parse()
        .with_context(|| format!("the server printed {line:?}, not a port"))?;
    Ok(PyServer {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        dir,
    })
}

async fn exercise(db: &DbManagerClient, trial: &str) -> anyhow::Result<()> {
    let logs = vec![
        MetricLog::new("2026-01-01T00:00:02Z", "loss", "0.4"),
        MetricLog::new("2026-01-01T00:00:01Z", "loss", "0.9"),
        MetricLog::new("2026-01-01T00:00:01Z", "accuracy", "0.5"),
        MetricLog::new("2026-01-01T00:00:03Z", "loss", "unavailable"),
    ];
    db.report_observation_log(trial, &logs).await?;
    let all = db
        .get_observation_log(ObservationLogQuery::trial(trial))
        .await?;
    ensure!(all.len() == 4, "{all:?}");
    let loss = db
        .get_observation_log(ObservationLogQuery::trial(trial).metric("loss"))
        .await?;
    let values: Vec<Option<f64>> = loss.iter().map(MetricLog::value_f64).collect();
    ensure!(values == vec![Some(0.9), Some(0.4), None], "{loss:?}");
    let window = db
        .get_observation_log(
            ObservationLogQuery::trial(trial)
                .metric("loss")
                .start_time("2026-01-01T00:00:02Z")
                .end_time("2026-01-01T00:00:02Z"),
        )
        .await?;
    ensure!(
        window == vec![MetricLog::new("2026-01-01T00:00:02Z", "loss", "0.4")],
        "{window:?}"
    );
    ensure!(
        db.get_observation_log(ObservationLogQuery::trial("no-such-trial"))
            .await?
            .is_empty()
    );
    db.delete_observation_log(trial).await?;
    ensure!(
        db.get_observation_log(ObservationLogQuery::trial(trial))
            .await?
            .is_empty()
    );
    match db.delete_observation_log("boom").await {
        Err(Error::DbManager {
            code: Some(13),
            message,
            method,
            ..
        }) => {
            ensure!(method == "DeleteObservationLog");
            ensure!(
                message == "db: 100% broken, see 'logs'",
                "grpc-message not decoded: {message:?}"
            );
        }
        other => bail!("expected INTERNAL from the server, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn db_manager_client_speaks_katibs_grpc_api() -> anyhow::Result<()> {
    let server = start_server()?;
    let db = DbManagerClient::new(server.addr).timeout(Duration::from_secs(10));
    exercise(&db, "lr-search-aaaaaaaa").await?;

    // Nothing listening: a clear error, not a hang.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    match DbManagerClient::new(closed)
        .get_observation_log(ObservationLogQuery::trial("t"))
        .await
    {
        Err(Error::DbManager {
            message,
            code: None,
            ..
        }) => ensure!(message.contains("cannot connect"), "{message}"),
        other => bail!("expected a connection error, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn db_manager_through_a_port_forward_to_the_service() -> anyhow::Result<()> {
    let server = start_server()?;
    let env = TestEnv::try_from_env()?;
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "katib-dbm").await?;
    // A kwok pod whose port 6789 kwok forwards to the gRPC server on 127.0.0.1, behind a
    // Service named like Katib's.
    KwokPod::new("katib-db-manager-0")
        .label("katib.kubeflow.org/component", "db-manager")
        .port("api", 6789, server.addr)
        .create(&client, env.kwok_node(), &ns)
        .await?;
    create_service(
        &client,
        &ns,
        "katib-db-manager",
        BTreeMap::from([(
            "katib.kubeflow.org/component".to_owned(),
            "db-manager".to_owned(),
        )]),
        &[("api", 6789, IntOrString::String("api".into()))],
    )
    .await?;

    let katib = KatibClient::new(client.clone(), &ns);
    let db = katib.db_manager_at(&ns, "katib-db-manager", 6789).await?;
    ensure!(
        db.addr() != server.addr,
        "the client must go through the port-forward"
    );
    exercise(&db, "lr-search-bbbbbbbb").await?;
    db.report_observation_log(
        "lr-search-cccccccc",
        &[MetricLog::new("2026-01-01T00:00:01Z", "loss", "0.25")],
    )
    .await?;
    drop(db);
    // A second forward sees what the first one stored.
    let again = katib.db_manager_at(&ns, "katib-db-manager", 6789).await?;
    let logs = again
        .get_observation_log(ObservationLogQuery::trial("lr-search-cccccccc").metric("loss"))
        .await?;
    ensure!(
        logs.len() == 1 && logs[0].value_f64() == Some(0.25),
        "{logs:?}"
    );
    Ok(())
}
