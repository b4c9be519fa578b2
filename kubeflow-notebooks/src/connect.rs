//! A direct connection to a notebook's server through a port-forward to its pod (no gateway
//! needed), checked by an HTTP request.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kubeflow_core::portforward::{PortForward, PortForwardHandle};
use url::Url;

use crate::NotebooksClient;
use crate::error::{Error, Result};
use crate::notebook::{
    DEFAULT_NOTEBOOK_PORT, HTTP_REWRITE_URI_ANNOTATION, NOTEBOOK_NAME_LABEL, NOTEBOOK_PORT_NAME,
    Notebook, gateway_path,
};

/// How long [`Connect`] tries to reach the server unless told otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Sets up a connection to a notebook, from [`NotebooksClient::connect`]; `.await` it.
#[must_use = "a connection is made only when awaited"]
#[derive(Debug)]
pub struct Connect {
    client: NotebooksClient,
    name: String,
    local_port: u16,
    timeout: Duration,
    check: bool,
}

impl Connect {
    /// Listens on `127.0.0.1:port` (default: a free port).
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = port;
        self
    }

    /// How long to keep trying to get an HTTP answer from the server (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether to check that the server answers HTTP (default `true`).
    pub fn check(mut self, check: bool) -> Self {
        self.check = check;
        self
    }

    async fn run(self) -> Result<NotebookConnection> {
        let ns = self.client.namespace().to_owned();
        let name = self.name.clone();
        let fail =
            |message: String, source: Option<kubeflow_core::error::BoxError>| Error::Connect {
                namespace: ns.clone(),
                name: name.clone(),
                message,
                source,
            };
        let notebook = self.client.get(&name).await?;
        if notebook.is_stopped() {
            return Err(fail(
                "the notebook is stopped; start it first (NotebooksClient::start)".into(),
                None,
            ));
        }
        let pods: Api<Pod> = Api::namespaced(self.client.kube_client().clone(), &ns);
        let list = pods
            .list(&ListParams::default().labels(&format!("{NOTEBOOK_NAME_LABEL}={name}")))
            .await
            .map_err(|e| Error::kube(format!("listing the pods of notebook {ns}/{name}"), e))?;
        let pod = choose_pod(list.items).ok_or_else(|| {
            fail(
                format!(
                    "no pod labelled {NOTEBOOK_NAME_LABEL}={name} is Running and Ready (phase: {})",
                    notebook.phase()
                ),
                None,
            )
        })?;
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let port = notebook_port(&pod, &name);
        let handle = PortForward::to_pod(self.client.kube_client().clone(), &ns, &pod_name, port)
            .local_port(self.local_port)
            .start()
            .await
            .map_err(|e| {
                fail(
                    format!("port-forward to pod {pod_name} port {port} failed"),
                    Some(Box::new(e)),
                )
            })?;
        let base_path = server_base_path(&notebook, &ns, &name);
        let base_url = Url::parse(&format!("http://{}{base_path}", handle.local_addr()))
            .map_err(|e| fail(format!("bad local URL: {e}"), None))?;
        let mut connection = NotebookConnection {
            handle,
            pod: pod_name,
            port,
            base_url,
            status: None,
        };
        if self.check {
            connection.status = Some(
                probe(&connection, self.timeout)
                    .await
                    .map_err(|(message, source)| fail(message, source))?,
            );
        }
        Ok(connection)
    }
}

impl IntoFuture for Connect {
    type Output = Result<NotebookConnection>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl NotebooksClient {
    /// Connects to the notebook's server directly: a port-forward (kubeflow-core's) from a
    /// local port to the notebook's pod, then an HTTP request that checks the server answers
    /// (`GET {prefix}api` for Jupyter, `GET /` for servers the gateway rewrites to `/`).
    ///
    /// ```no_run
    /// # async fn f(notebooks: kubeflow_notebooks::NotebooksClient) -> kubeflow_notebooks::Result<()> {
    /// let conn = notebooks.connect("my-nb").await?;
    /// println!("open {}", conn.url());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Connect`] when the notebook is stopped, has no Running and Ready pod, the
    /// port-forward fails, or the server gives no HTTP answer (or only 5xx) before the timeout.
    pub fn connect(&self, name: &str) -> Connect {
        Connect {
            client: self.clone(),
            name: name.to_owned(),
            local_port: 0,
            timeout: DEFAULT_CONNECT_TIMEOUT,
            check: true,
        }
    }
}

/// An open connection to a notebook's server. The port-forward stops when it is dropped.
#[derive(Debug)]
pub struct NotebookConnection {
    handle: PortForwardHandle,
    pod: String,
    port: u16,
    base_url: Url,
    status: Option<u16>,
}

impl NotebookConnection {
    /// The server's URL on this machine (`http://127.0.0.1:<port>/notebook/<ns>/<name>/` for
    /// Jupyter, `http://127.0.0.1:<port>/` for VS Code and RStudio).
    pub fn url(&self) -> &Url {
        &self.base_url
    }

    /// The local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// The pod connected to.
    pub fn pod(&self) -> &str {
        &self.pod
    }

    /// The pod's port connected to.
    pub fn pod_port(&self) -> u16 {
        self.port
    }

    /// The HTTP status the server answered the check with (`None` when not checked).
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The port-forward.
    pub fn port_forward(&self) -> &PortForwardHandle {
        &self.handle
    }

    /// Stops the port-forward.
    pub async fn stop(self) {
        self.handle.stop().await;
    }
}

/// The newest pod that is Running, Ready and not terminating.
fn choose_pod(pods: Vec<Pod>) -> Option<Pod> {
    pods.into_iter()
        .filter(|p| {
            let status = p.status.as_ref();
            p.metadata.deletion_timestamp.is_none()
                && status.and_then(|s| s.phase.as_deref()) == Some("Running")
                && status
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .max_by(|a, b| {
            a.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0)
                .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
        })
}

/// The notebook container's port: the container named like the notebook (else the first),
/// its port named `notebook-port` (else its first port), else 8888 (the controller's default).
fn notebook_port(pod: &Pod, name: &str) -> u16 {
    let Some(spec) = &pod.spec else {
        return DEFAULT_NOTEBOOK_PORT;
    };
    let container = spec
        .containers
        .iter()
        .find(|c| c.name == name)
        .or_else(|| spec.containers.first());
    let ports = container.and_then(|c| c.ports.as_ref());
    ports
        .and_then(|ps| {
            ps.iter()
                .find(|p| p.name.as_deref() == Some(NOTEBOOK_PORT_NAME))
                .or_else(|| ps.first())
        })
        .and_then(|p| u16::try_from(p.container_port).ok())
        .unwrap_or(DEFAULT_NOTEBOOK_PORT)
}

/// Where the server serves: the notebook prefix, or the rewrite target the gateway uses.
fn server_base_path(nb: &Notebook, ns: &str, name: &str) -> String {
    match nb
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(HTTP_REWRITE_URI_ANNOTATION))
    {
        Some(p) if p.starts_with('/') => {
            if p.ends_with('/') {
                p.clone()
            } else {
                format!("{p}/")
            }
        }
        _ => gateway_path(ns, name),
    }
}

type ProbeError = (String, Option<kubeflow_core::error::BoxError>);

/// GETs the server until it answers with a status below 500, or the timeout passes.
async fn probe(conn: &NotebookConnection, timeout: Duration) -> Result<u16, ProbeError> {
    let is_jupyter = conn.base_url.path().starts_with("/notebook/");
    let url = if is_jupyter {
        conn.base_url.join("api")
    } else {
        Ok(conn.base_url.clone())
    }
    .map_err(|e| (format!("bad probe URL: {e}"), None))?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10).min(timeout.max(Duration::from_millis(100))))
        .build()
        .map_err(|e| {
            (
                "could not build the HTTP client".to_owned(),
                Some(Box::new(e) as kubeflow_core::error::BoxError),
            )
        })?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(200);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let last = match http.get(url.clone()).send().await {
            Ok(resp) if resp.status().as_u16() < 500 => return Ok(resp.status().as_u16()),
            Ok(resp) => format!("the server answered HTTP {}", resp.status()),
            Err(e) => format!("no HTTP answer ({e})"),
        };
        tracing::debug!(%url, attempts, %last, "notebook probe");
        if tokio::time::Instant::now() + pause >= deadline {
            return Err((
                format!(
                    "GET {} through the port-forward to pod {} port {}: {last} after {attempts} attempts in {timeout:?}",
                    url.path(),
                    conn.pod,
                    conn.port
                ),
                None,
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec};

    fn pod_with(containers: Vec<Container>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers,
                ..PodSpec::default()
            }),
            ..Pod::default()
        }
    }

    fn port(name: Option<&str>, n: i32) -> ContainerPort {
        ContainerPort {
            name: name.map(str::to_owned),
            container_port: n,
            ..ContainerPort::default()
        }
    }

    #[test]
    fn base_path_follows_the_rewrite_annotation() {
        let nb = |ann: Option<(&str, &str)>| {
            let mut nb = crate::NotebookBuilder::new("nb", "img")
                .build()
                .unwrap()
                .notebook;
            nb.metadata.annotations = ann.map(|(k, v)| [(k.to_owned(), v.to_owned())].into());
            nb
        };
        assert_eq!(server_base_path(&nb(None), "ns", "nb"), "/notebook/ns/nb/");
        assert_eq!(
            server_base_path(&nb(Some((HTTP_REWRITE_URI_ANNOTATION, "/"))), "ns", "nb"),
            "/"
        );
        assert_eq!(
            server_base_path(&nb(Some((HTTP_REWRITE_URI_ANNOTATION, "/ui"))), "ns", "nb"),
            "/ui/"
        );
        // A VS Code notebook from the builder carries the rewrite.
        let code = crate::NotebookBuilder::new("code", "img")
            .server_kind(crate::ServerKind::VsCode)
            .build()
            .unwrap()
            .notebook;
        assert_eq!(server_base_path(&code, "ns", "code"), "/");
    }

    #[test]
    fn chooses_the_newest_ready_pod() {
        use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        let pod = |name: &str, secs: i64, ready: bool, deleting: bool| {
            let t = |s: i64| Time(k8s_openapi::jiff::Timestamp::from_second(s).unwrap());
            let mut p = Pod::default();
            p.metadata.name = Some(name.into());
            p.metadata.creation_timestamp = Some(t(secs));
            p.metadata.deletion_timestamp = deleting.then(|| t(secs + 1));
            p.status = Some(PodStatus {
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            });
            p
        };
        let chosen = choose_pod(vec![
            pod("old", 100, true, false),
            pod("newer-not-ready", 300, false, false),
            pod("new", 200, true, false),
            pod("newest-terminating", 400, true, true),
        ]);
        assert_eq!(chosen.and_then(|p| p.metadata.name).as_deref(), Some("new"));
        assert!(choose_pod(vec![pod("x", 1, false, false)]).is_none());
    }

    #[test]
    fn picks_the_notebook_port() {
        let c = |name: &str, ports: Vec<ContainerPort>| Container {
            name: name.into(),
            ports: Some(ports),
            ..Container::default()
        };
        let pod = pod_with(vec![
            c("istio-proxy", vec![port(Some("http-envoy"), 15090)]),
            c(
                "nb",
                vec![
                    port(Some("metrics"), 9000),
                    port(Some("notebook-port"), 8889),
                ],
            ),
        ]);
        assert_eq!(notebook_port(&pod, "nb"), 8889);
        // Container not named like the notebook: the first one, its first port.
        assert_eq!(notebook_port(&pod, "other"), 15090);
        assert_eq!(notebook_port(&pod_with(vec![]), "nb"), 8888);
        assert_eq!(notebook_port(&Pod::default(), "nb"), 8888);
    }
}
