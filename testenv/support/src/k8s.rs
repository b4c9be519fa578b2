//! The real Kubernetes test control plane started by `testenv/k8s/start.sh` (through
//! `scripts/test`): etcd + kube-apiserver with the upstream Kubeflow CRDs, and kwok as a fake
//! kubelet whose pods can be port-forwarded to local TCP servers.
//!
//! Every function returns `anyhow::Result` with context naming what failed; the only panic is
//! [`TestEnv::from_env`], whose message tells how to start the servers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, Namespace, Pod, PodSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{self, Scope};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, Config};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// Field manager used by the server-side apply helpers of this crate.
pub const FIELD_MANAGER: &str = "kubeflow-tests";

/// How long the helpers wait for the API server to reach a state (pod Running, …).
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Message shown when a real-server test runs without `scripts/test`.
const HOW_TO_RUN: &str = "this test needs the real test servers: run it through `scripts/test` \
     (e.g. `KF_TESTENV_COMPONENTS=k8s scripts/test -p kubeflow-tests`), which builds and starts \
     them and exports the KUBEFLOW_TEST_* variables (see testenv/README.md)";

/// The Kubernetes part of the test environment, read from the variables `testenv/k8s/start.sh`
/// exports.
#[derive(Debug, Clone)]
pub struct TestEnv {
    kubeconfig: PathBuf,
    unprivileged_kubeconfig: Option<PathBuf>,
    apiserver: String,
    kwok_node: String,
    kubectl: PathBuf,
}

fn required_var(name: &str) -> anyhow::Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => bail!("environment variable {name} is empty; {HOW_TO_RUN}"),
        Err(_) => bail!("environment variable {name} is not set; {HOW_TO_RUN}"),
    }
}

impl TestEnv {
    /// Reads `KUBEFLOW_TEST_KUBECONFIG`, `KUBEFLOW_TEST_APISERVER`, `KUBEFLOW_TEST_KWOK_NODE`
    /// (required) and `KUBEFLOW_TEST_UNPRIVILEGED_KUBECONFIG`, `KUBEFLOW_TEST_KUBECTL`
    /// (optional; `kubectl` from `PATH` otherwise).
    ///
    /// # Panics
    /// When a required variable is missing, with a message naming it and saying how to run the
    /// test. Use [`TestEnv::try_from_env`] to get an error instead.
    #[allow(clippy::panic)]
    pub fn from_env() -> Self {
        match Self::try_from_env() {
            Ok(env) => env,
            Err(e) => panic!("{e:#}"),
        }
    }

    /// Like [`TestEnv::from_env`], but returns an error naming the missing variable.
    pub fn try_from_env() -> anyhow::Result<Self> {
        let kubeconfig = PathBuf::from(required_var("KUBEFLOW_TEST_KUBECONFIG")?);
        let apiserver = required_var("KUBEFLOW_TEST_APISERVER")?;
        let kwok_node = required_var("KUBEFLOW_TEST_KWOK_NODE")?;
        let unprivileged_kubeconfig = std::env::var_os("KUBEFLOW_TEST_UNPRIVILEGED_KUBECONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let kubectl = std::env::var_os("KUBEFLOW_TEST_KUBECTL")
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("kubectl"), PathBuf::from);
        Ok(Self {
            kubeconfig,
            unprivileged_kubeconfig,
            apiserver,
            kwok_node,
            kubectl,
        })
    }

    /// The admin kubeconfig file (static token in group `system:masters`).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A kubeconfig of a user without any RBAC permission, when the environment has one.
    pub fn unprivileged_kubeconfig_path(&self) -> Option<&Path> {
        self.unprivileged_kubeconfig.as_deref()
    }

    /// The API server URL, `https://127.0.0.1:<port>`.
    pub fn apiserver(&self) -> &str {
        &self.apiserver
    }

    /// Name of the kwok fake node (Ready); pods bound to it become Running.
    pub fn kwok_node(&self) -> &str {
        &self.kwok_node
    }

    /// The `kubectl` binary matching the server (built by `testenv/k8s/build.sh`).
    pub fn kubectl(&self) -> &Path {
        &self.kubectl
    }

    /// The kube-rs client configuration of the admin kubeconfig.
    pub async fn kube_config(&self) -> anyhow::Result<Config> {
        config_from_file(&self.kubeconfig).await
    }

    /// A kube-rs client (admin) for the test API server.
    pub async fn kube_client(&self) -> anyhow::Result<Client> {
        let config = self.kube_config().await?;
        Client::try_from(config).context("building a kube client for the test API server")
    }

    /// A kube-rs client for the user without permissions.
    pub async fn unprivileged_kube_client(&self) -> anyhow::Result<Client> {
        let path = self
            .unprivileged_kubeconfig
            .as_deref()
            .ok_or_else(|| anyhow!("KUBEFLOW_TEST_UNPRIVILEGED_KUBECONFIG is not set"))?;
        let config = config_from_file(path).await?;
        Client::try_from(config).context("building the unprivileged kube client")
    }
}

async fn config_from_file(path: &Path) -> anyhow::Result<Config> {
    let kubeconfig = Kubeconfig::read_from(path)
        .with_context(|| format!("reading kubeconfig {}", path.display()))?;
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .with_context(|| format!("loading kubeconfig {}", path.display()))
}

/// The upstream reference data: `KUBEFLOW_REFERENCE_DIR` (set by `scripts/test`), else
/// `<workspace>/../shared/reference`.
pub fn reference_dir() -> PathBuf {
    match std::env::var_os("KUBEFLOW_REFERENCE_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"),
    }
}

/// A random lowercase suffix usable in Kubernetes names.
pub fn random_suffix(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| char::from(CHARS[fastrand::usize(..CHARS.len())]))
        .collect()
}

/// Creates a fresh namespace `<prefix>-<random>` and returns its name.
///
/// There is no namespace controller in the test control plane, so deleted namespaces would
/// stay `Terminating`: tests just leave theirs behind (the cluster lives for one run).
pub async fn unique_namespace(client: &Client, prefix: &str) -> anyhow::Result<String> {
    let prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(50)
        .collect();
    let name = format!("{}-{}", prefix.trim_matches('-'), random_suffix(6));
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(BTreeMap::from([(
                "kubeflow-rs.test/owner".to_owned(),
                "kubeflow-tests".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .with_context(|| format!("creating namespace {name}"))?;
    Ok(name)
}

/// An `Api<DynamicObject>` for `apiVersion`/`kind`, resolved through discovery; `namespace` is
/// used for namespaced kinds (required for them) and ignored for cluster-scoped ones.
pub async fn dynamic_api(
    client: &Client,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
) -> anyhow::Result<Api<DynamicObject>> {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, caps) = discovery::pinned_kind(client, &gvk)
        .await
        .with_context(|| format!("discovering {kind} in {api_version}"))?;
    Ok(match caps.scope {
        Scope::Cluster => Api::all_with(client.clone(), &resource),
        Scope::Namespaced => {
            let ns = namespace.ok_or_else(|| {
                anyhow!("{kind} ({api_version}) is namespaced but no namespace was given")
            })?;
            Api::namespaced_with(client.clone(), ns, &resource)
        }
    })
}

fn str_field<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.pointer(pointer).and_then(Value::as_str)
}

/// Server-side applies one object (JSON form of any kind, built-in or custom), forcing
/// conflicts, as field manager [`FIELD_MANAGER`]. `namespace` is used when the object has
/// none and its kind is namespaced.
pub async fn apply_object(
    client: &Client,
    object: &Value,
    namespace: Option<&str>,
) -> anyhow::Result<DynamicObject> {
    let api_version = str_field(object, "/apiVersion")
        .ok_or_else(|| anyhow!("object without apiVersion: {}", snippet(object)))?;
    let kind = str_field(object, "/kind")
        .ok_or_else(|| anyhow!("object without kind: {}", snippet(object)))?;
    let name = str_field(object, "/metadata/name")
        .ok_or_else(|| anyhow!("{kind} without metadata.name (generateName cannot be applied)"))?;
    let ns = str_field(object, "/metadata/namespace").or(namespace);
    let api = dynamic_api(client, api_version, kind, ns).await?;
    let mut object = object.clone();
    if let (Some(ns), Some(meta), Some(_)) = (
        ns,
        object.get_mut("metadata").and_then(Value::as_object_mut),
        api.namespace(),
    ) {
        meta.insert("namespace".to_owned(), Value::String(ns.to_owned()));
    }
    api.patch(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&object),
    )
    .await
    .with_context(|| format!("server-side apply of {kind} {name}"))
}

fn snippet(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// Parses a (multi-document) YAML string into JSON values, skipping empty documents.
pub fn parse_yaml_documents(yaml: &str) -> anyhow::Result<Vec<Value>> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).context("parsing YAML")?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.is_null() && d.as_object().is_none_or(|o| !o.is_empty()))
        .collect())
}

/// Server-side applies every document of a (multi-document) YAML string, in order.
pub async fn apply_yaml(
    client: &Client,
    yaml: &str,
    namespace: Option<&str>,
) -> anyhow::Result<Vec<DynamicObject>> {
    let mut applied = Vec::new();
    for (i, doc) in parse_yaml_documents(yaml)?.iter().enumerate() {
        let obj = apply_object(client, doc, namespace)
            .await
            .with_context(|| format!("YAML document {}", i + 1))?;
        applied.push(obj);
    }
    Ok(applied)
}

/// Server-side applies every document of a YAML file (see [`apply_yaml`]).
pub async fn apply_yaml_file(
    client: &Client,
    path: impl AsRef<Path>,
    namespace: Option<&str>,
) -> anyhow::Result<Vec<DynamicObject>> {
    let path = path.as_ref();
    let yaml = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    apply_yaml(client, &yaml, namespace)
        .await
        .with_context(|| format!("applying {}", path.display()))
}

/// Plays the controller: merge-patches `.status` of any object with a status subresource
/// (custom resources included) and returns the updated object.
pub async fn patch_status(
    client: &Client,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    status: Value,
) -> anyhow::Result<DynamicObject> {
    let api = dynamic_api(client, api_version, kind, namespace).await?;
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .with_context(|| format!("patching status of {kind} {name}"))
}

/// A pod bound to the kwok node, whose container ports kwok forwards to local TCP addresses
/// (through a `kwok.x-k8s.io/v1alpha1` `PortForward` named like the pod), so
/// `pods/portforward` works end to end.
///
/// ```no_run
/// # async fn f(client: kube::Client, env: kubeflow_test_support::k8s::TestEnv) -> anyhow::Result<()> {
/// use kubeflow_test_support::k8s::{EchoServer, KwokPod};
/// let echo = EchoServer::start().await?;
/// let pod = KwokPod::new("web").label("app", "web").port("http", 8080, echo.addr())
///     .create(&client, env.kwok_node(), "my-namespace").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct KwokPod {
    name: String,
    labels: BTreeMap<String, String>,
    ports: Vec<(String, u16, SocketAddr)>,
}

impl KwokPod {
    /// A pod called `name` (no ports yet).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            labels: BTreeMap::new(),
            ports: Vec::new(),
        }
    }

    /// Adds a label (for Service selectors).
    #[must_use]
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Declares container port `container_port` (named `name`) and forwards it to `target`.
    #[must_use]
    pub fn port(
        mut self,
        name: impl Into<String>,
        container_port: u16,
        target: SocketAddr,
    ) -> Self {
        self.ports.push((name.into(), container_port, target));
        self
    }

    /// Creates the `PortForward` rule and the pod in `namespace` on `node`, then waits (up to
    /// [`WAIT_TIMEOUT`]) until kwok reports it Running.
    pub async fn create(
        &self,
        client: &Client,
        node: &str,
        namespace: &str,
    ) -> anyhow::Result<Pod> {
        if !self.ports.is_empty() {
            let forwards: Vec<Value> = self
                .ports
                .iter()
                .map(|(_, port, target)| {
                    json!({
                        "ports": [port],
                        "target": { "address": target.ip().to_string(), "port": target.port() },
                    })
                })
                .collect();
            let rule = json!({
                "apiVersion": "kwok.x-k8s.io/v1alpha1",
                "kind": "PortForward",
                "metadata": { "name": self.name, "namespace": namespace },
                "spec": { "forwards": forwards },
            });
            apply_object(client, &rule, Some(namespace))
                .await
                .context("creating the kwok PortForward rule")?;
        }
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: Some(namespace.to_owned()),
                labels: (!self.labels.is_empty()).then(|| self.labels.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(PodSpec {
                node_name: Some(node.to_owned()),
                containers: vec![Container {
                    name: "main".to_owned(),
                    image: Some("kwok.invalid/fake:never-pulled".to_owned()),
                    ports: Some(
                        self.ports
                            .iter()
                            .map(|(name, port, _)| ContainerPort {
                                name: Some(name.clone()),
                                container_port: i32::from(*port),
                                ..ContainerPort::default()
                            })
                            .collect(),
                    ),
                    ..Container::default()
                }],
                ..PodSpec::default()
            }),
            ..Pod::default()
        };
        let api = Api::<Pod>::namespaced(client.clone(), namespace);
        api.create(&PostParams::default(), &pod)
            .await
            .with_context(|| format!("creating pod {namespace}/{}", self.name))?;
        wait_pod_running(client, namespace, &self.name).await
    }
}

/// Waits (up to [`WAIT_TIMEOUT`]) until the pod's phase is `Running`.
pub async fn wait_pod_running(client: &Client, namespace: &str, name: &str) -> anyhow::Result<Pod> {
    let api = Api::<Pod>::namespaced(client.clone(), namespace);
    let waited = tokio::time::timeout(
        WAIT_TIMEOUT,
        await_condition(api, name, conditions::is_pod_running()),
    )
    .await
    .map_err(|_| {
        anyhow!(
            "pod {namespace}/{name} not Running after {WAIT_TIMEOUT:?} (is kwok running? see its log)"
        )
    })?
    .with_context(|| format!("watching pod {namespace}/{name}"))?;
    waited.ok_or_else(|| anyhow!("pod {namespace}/{name} was deleted while waiting"))
}

/// Creates a ClusterIP Service selecting `selector`, with `(name, port, target_port)` ports;
/// `target_port` may be a number or a container port name.
pub async fn create_service(
    client: &Client,
    namespace: &str,
    name: &str,
    selector: BTreeMap<String, String>,
    ports: &[(&str, u16, IntOrString)],
) -> anyhow::Result<Service> {
    let svc = Service {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(selector),
            ports: Some(
                ports
                    .iter()
                    .map(|(n, port, target)| ServicePort {
                        name: Some((*n).to_owned()),
                        port: i32::from(*port),
                        target_port: Some(target.clone()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    Api::<Service>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &svc)
        .await
        .with_context(|| format!("creating service {namespace}/{name}"))
}

/// A local TCP echo server on `127.0.0.1:<free port>`: writes back every byte it reads, until
/// the peer closes its write side. Stopped (with all its connections) on drop.
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl EchoServer {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding the echo server on 127.0.0.1")?;
        let addr = listener.local_addr().context("echo server address")?;
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                conns.spawn(async move {
                    let (mut rd, mut wr) = stream.split();
                    // Errors only end this connection.
                    if tokio::io::copy(&mut rd, &mut wr).await.is_ok() {
                        let _ = wr.shutdown().await;
                    }
                });
                // Reap finished connections so the set stays small.
                while conns.try_join_next().is_some() {}
            }
        });
        Ok(Self {
            addr,
            connections,
            task,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections it has accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts `kubectl port-forward` (the kubectl built with the control plane) to `target`
/// (`pod/NAME` or `svc/NAME`) port `port`, on a free port of 127.0.0.1. Returns the child
/// (killed on drop) and the local port kubectl chose.
pub async fn kubectl_port_forward(
    env: &TestEnv,
    namespace: &str,
    target: &str,
    port: u16,
) -> anyhow::Result<(tokio::process::Child, u16)> {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env.kubectl())
        .arg(format!("--kubeconfig={}", env.kubeconfig_path().display()))
        .args([
            "-n",
            namespace,
            "port-forward",
            "--address=127.0.0.1",
            target,
            &format!(":{port}"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("running {}", env.kubectl().display()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("kubectl has no stdout"))?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .map_err(|_| anyhow!("kubectl port-forward printed nothing in 30 s"))??
        .ok_or_else(|| anyhow!("kubectl port-forward exited"))?;
    // "Forwarding from 127.0.0.1:41235 -> 8080"
    let local = line
        .strip_prefix("Forwarding from 127.0.0.1:")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or_else(|| anyhow!("unexpected kubectl output: {line}"))?;
    // Keep draining stdout so kubectl never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, local))
}

/// Sends `data` to `127.0.0.1:port` and reads the same number of bytes back (an echo through
/// a port-forward), within 60 s.
pub async fn round_trip(port: u16, data: &[u8]) -> anyhow::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt as _;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let (mut rd, mut wr) = stream.into_split();
    let payload = data.to_vec();
    let writer = tokio::spawn(async move { wr.write_all(&payload).await.map(|()| wr) });
    let mut back = vec![0u8; data.len()];
    tokio::time::timeout(Duration::from_secs(60), rd.read_exact(&mut back))
        .await
        .map_err(|_| anyhow!("the echo did not come back within 60 s"))??;
    writer.await??;
    Ok(back)
}
