//! Per-step trial metrics from Katib's DB manager (feature `db-manager`).
//!
//! Katib stores every reported metric value in its DB manager, a plaintext gRPC service
//! (`api.v1.beta1.DBManager`, Service `katib-db-manager` port 6789 in the `kubeflow`
//! namespace). It is not exposed through the Kubeflow gateway and has no authentication; reach
//! it from inside the cluster, or from outside through a port-forward
//! ([`KatibClient::db_manager`](crate::KatibClient::db_manager)). Trial names are not namespaced
//! there.
//!
//! ```no_run
//! # async fn demo(katib: kubeflow_katib::KatibClient) -> Result<(), kubeflow_katib::Error> {
//! use kubeflow_katib::db_manager::ObservationLogQuery;
//!
//! let db = katib.db_manager().await?; // port-forward to kubeflow/katib-db-manager:6789
//! for log in db.get_observation_log(ObservationLogQuery::trial("lr-search-abcdefgh").metric("loss")).await? {
//!     println!("{} {}={}", log.time_stamp, log.name, log.value);
//! }
//! # Ok(())
//! # }
//! ```

mod proto;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kubeflow_core::portforward::{PortForward, PortForwardHandle};

pub use proto::{DecodeError, MetricLog};

use crate::error::{Error, Result};

/// The namespace of the DB manager in a standard install.
pub const DEFAULT_NAMESPACE: &str = "kubeflow";
/// The DB manager's Service.
pub const DEFAULT_SERVICE: &str = "katib-db-manager";
/// Its gRPC port.
pub const DEFAULT_PORT: u16 = 6789;

const SERVICE_PATH: &str = "/api.v1.beta1.DBManager";

/// Which observations to read ([`DbManagerClient::get_observation_log`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObservationLogQuery {
    /// The trial.
    pub trial_name: String,
    /// Only this metric (all metrics when empty).
    pub metric_name: Option<String>,
    /// From this time (RFC3339).
    pub start_time: Option<String>,
    /// Until this time (RFC3339).
    pub end_time: Option<String>,
}

impl ObservationLogQuery {
    /// Every observation of a trial.
    pub fn trial(name: impl Into<String>) -> Self {
        ObservationLogQuery {
            trial_name: name.into(),
            ..Default::default()
        }
    }

    /// Only this metric.
    pub fn metric(mut self, name: impl Into<String>) -> Self {
        self.metric_name = Some(name.into());
        self
    }

    /// From this time (RFC3339).
    pub fn start_time(mut self, t: impl Into<String>) -> Self {
        self.start_time = Some(t.into());
        self
    }

    /// Until this time (RFC3339).
    pub fn end_time(mut self, t: impl Into<String>) -> Self {
        self.end_time = Some(t.into());
        self
    }
}

/// A client of the DB manager at a TCP address (plaintext HTTP/2, as Katib serves it).
#[derive(Debug, Clone)]
pub struct DbManagerClient {
    addr: SocketAddr,
    timeout: Duration,
}

impl DbManagerClient {
    /// A client for the DB manager at `addr`. No network I/O.
    pub fn new(addr: SocketAddr) -> Self {
        DbManagerClient {
            addr,
            timeout: Duration::from_secs(30),
        }
    }

    /// The limit for one call, connection included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GetObservationLog`: the values reported for a trial, oldest first.
    ///
    /// # Errors
    /// [`Error::DbManager`] when the service cannot be reached, answers with a gRPC error, or
    /// sends a reply that does not decode.
    pub async fn get_observation_log(&self, query: ObservationLogQuery) -> Result<Vec<MetricLog>> {
        let method = "GetObservationLog";
        let body = proto::encode_get_request(
            &query.trial_name,
            query.metric_name.as_deref().unwrap_or(""),
            query.start_time.as_deref().unwrap_or(""),
            query.end_time.as_deref().unwrap_or(""),
        );
        let reply = self.call(method, body).await?;
        proto::decode_get_reply(&reply)
            .map_err(|e| db_error(method, e.to_string(), Some(Box::new(e))))
    }

    /// `ReportObservationLog`: stores values for a trial (what `katib.report_metrics` does).
    ///
    /// # Errors
    /// As [`get_observation_log`](Self::get_observation_log).
    pub async fn report_observation_log(&self, trial_name: &str, logs: &[MetricLog]) -> Result<()> {
        self.call(
            "ReportObservationLog",
            proto::encode_report_request(trial_name, logs),
        )
        .await
        .map(|_| ())
    }

    /// `DeleteObservationLog`: deletes every value of a trial.
    ///
    /// # Errors
    /// As [`get_observation_log`](Self::get_observation_log).
    pub async fn delete_observation_log(&self, trial_name: &str) -> Result<()> {
        self.call(
            "DeleteObservationLog",
            proto::encode_delete_request(trial_name),
        )
        .await
        .map(|_| ())
    }

    async fn call(&self, method: &'static str, message: Vec<u8>) -> Result<Bytes> {
        match tokio::time::timeout(self.timeout, self.call_inner(method, message)).await {
            Ok(r) => r,
            Err(_) => Err(db_error(
                method,
                format!("no answer from {} within {:?}", self.addr, self.timeout),
                None,
            )),
        }
    }

    async fn call_inner(&self, method: &'static str, message: Vec<u8>) -> Result<Bytes> {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| {
                db_error(
                    method,
                    format!("cannot connect to {}", self.addr),
                    Some(Box::new(e)),
                )
            })?;
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .map_err(|e| {
                    db_error(method, "HTTP/2 handshake failed".into(), Some(Box::new(e)))
                })?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "db-manager connection ended");
            }
        });

        // gRPC framing: compressed flag (0), big-endian length, message.
        let len = u32::try_from(message.len())
            .map_err(|_| db_error(method, "request too large".into(), None))?;
        let mut frame = Vec::with_capacity(message.len() + 5);
        frame.push(0);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&message);
        let request = http::Request::post(format!("http://{}{SERVICE_PATH}/{method}", self.addr))
            .header(http::header::CONTENT_TYPE, "application/grpc")
            .header(http::header::TE, "trailers")
            .header(http::header::USER_AGENT, kubeflow_core::USER_AGENT)
            .body(Full::new(Bytes::from(frame)))
            .map_err(|e| db_error(method, "cannot build the request".into(), Some(Box::new(e))))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| db_error(method, "the request failed".into(), Some(Box::new(e))))?;
        let status = response.status();
        let headers = response.headers().clone();
        let collected =
            response.into_body().collect().await.map_err(|e| {
                db_error(method, "reading the reply failed".into(), Some(Box::new(e)))
            })?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let body = collected.to_bytes();
        if !status.is_success() {
            return Err(db_error(
                method,
                format!("HTTP status {status} (is this a gRPC service?)"),
                None,
            ));
        }
        // A trailers-only reply carries grpc-status in the headers.
        let grpc_status = trailers
            .get("grpc-status")
            .or_else(|| headers.get("grpc-status"));
        let code = grpc_status
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.parse::<i32>().ok());
        match code {
            Some(0) => {}
            Some(code) => {
                let message = trailers
                    .get("grpc-message")
                    .or_else(|| headers.get("grpc-message"))
                    .and_then(|v| v.to_str().ok())
                    .map(percent_decode)
                    .unwrap_or_default();
                return Err(Error::DbManager {
                    method,
                    code: Some(code),
                    message,
                    source: None,
                });
            }
            None => {
                return Err(db_error(
                    method,
                    "the reply has no grpc-status".into(),
                    None,
                ));
            }
        }
        if body.len() < 5 {
            return Err(db_error(
                method,
                format!("reply of {} bytes is not a gRPC message", body.len()),
                None,
            ));
        }
        if body[0] != 0 {
            return Err(db_error(
                method,
                "compressed replies are not supported".into(),
                None,
            ));
        }
        let n = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        if body.len() < 5 + n {
            return Err(db_error(
                method,
                format!("reply truncated: {} of {n} bytes", body.len() - 5),
                None,
            ));
        }
        Ok(body.slice(5..5 + n))
    }
}

fn db_error(
    method: &'static str,
    message: String,
    source: Option<kubeflow_core::error::BoxError>,
) -> Error {
    Error::DbManager {
        method,
        code: None,
        message,
        source,
    }
}

/// `grpc-message` is percent-encoded.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A [`DbManagerClient`] through a port-forward; the forward stops when this is dropped.
#[derive(Debug)]
pub struct ForwardedDbManager {
    client: DbManagerClient,
    forward: PortForwardHandle,
}

impl ForwardedDbManager {
    /// The port-forward.
    pub fn forward(&self) -> &PortForwardHandle {
        &self.forward
    }
}

impl std::ops::Deref for ForwardedDbManager {
    type Target = DbManagerClient;
    fn deref(&self) -> &DbManagerClient {
        &self.client
    }
}

impl crate::KatibClient {
    /// The DB manager through a port-forward to `kubeflow/katib-db-manager:6789`.
    ///
    /// # Errors
    /// [`Error::Core`] when the port-forward cannot start (no such Service, no ready pod…).
    pub async fn db_manager(&self) -> Result<ForwardedDbManager> {
        self.db_manager_at(DEFAULT_NAMESPACE, DEFAULT_SERVICE, DEFAULT_PORT)
            .await
    }

    /// The DB manager through a port-forward to another Service.
    ///
    /// # Errors
    /// As [`db_manager`](Self::db_manager).
    pub async fn db_manager_at(
        &self,
        namespace: &str,
        service: &str,
        port: u16,
    ) -> Result<ForwardedDbManager> {
        let forward = PortForward::to_service(self.kube_client(), namespace, service, port)
            .start()
            .await
            .map_err(kubeflow_core::Error::from)?;
        Ok(ForwardedDbManager {
            client: DbManagerClient::new(forward.local_addr()),
            forward,
        })
    }

    /// Every value reported for one trial of this namespace, through a port-forward to the
    /// DB manager (the per-step curve; a Trial's status only has min, max and latest).
    ///
    /// # Errors
    /// As [`db_manager`](Self::db_manager) and [`DbManagerClient::get_observation_log`].
    pub async fn trial_metrics(&self, trial: &str, metric: Option<&str>) -> Result<Vec<MetricLog>> {
        let db = self.db_manager().await?;
        let mut query = ObservationLogQuery::trial(trial);
        query.metric_name = metric.map(str::to_owned);
        db.get_observation_log(query).await
    }
}
