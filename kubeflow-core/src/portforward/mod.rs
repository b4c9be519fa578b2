//! A native port-forward to a Service or a Pod (what `kubectl port-forward` does).
//!
//! The Kubernetes API has no port-forward to a Service: like `kubectl`, [`PortForward::to_service`]
//! resolves the Service to one pod on the client side (its `spec.selector`, then the newest pod
//! that is Running, Ready and not terminating) and maps the Service port to the pod's
//! `targetPort` (a number, a named container port, or the Service port itself when unset).
//!
//! Every accepted local TCP connection gets its own `pods/portforward` WebSocket (opened with
//! [`kube::Client::connect`]; the kubelet speaks `v4.channel.k8s.io`, which carries one stream per
//! port and cannot be multiplexed). The connection's task copies both ways between the local
//! socket and the WebSocket itself, in messages of up to 64 KiB, flushing once per burst: kube's
//! own `Portforwarder` (4 KiB messages, each flushed, both directions taking turns in one task
//! behind a duplex pipe) reached only about 0.6x the throughput of `kubectl port-forward`. When the
//! local client closes its side, the WebSocket is closed and what the pod still sends before the
//! server answers is delivered (v4 has no half-close). Errors of one connection (including the
//! messages the kubelet sends on the error channel) are logged, counted in [`PortForwardStats`]
//! and sent as [`PortForwardEvent`]s; the listener keeps running. When the chosen pod goes away, a forward to a
//! Service re-resolves it to another pod and retries that connection once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use kubeflow_core::portforward::PortForward;
//!
//! let client = kube::Client::try_default().await?;
//! let pf = PortForward::to_service(client, "kubeflow", "ml-pipeline", 8888).start().await?;
//! println!("KFP is at http://{}", pf.local_addr());
//! // ... use it ...
//! pf.stop().await; // or just drop it
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

mod channel;
mod resolve;

use channel::Outcome;

use resolve::{pod_unusable, resolve};

/// Errors of a port-forward.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Service has no selector (ExternalName, or Endpoints managed by hand).
    #[error("service {namespace}/{service} has no selector, so no pod can be chosen to forward to")]
    NoSelector {
        /// Namespace.
        namespace: String,
        /// Service.
        service: String,
    },

    /// The Service has no port with this number (or name).
    #[error("service {namespace}/{service} has no port {port} (ports: {available})")]
    NoSuchServicePort {
        /// Namespace.
        namespace: String,
        /// Service.
        service: String,
        /// The port asked for.
        port: u16,
        /// The ports the Service has, as `number/name`, comma separated.
        available: String,
    },

    /// No pod matching the Service's selector is Running, Ready and not terminating.
    #[error(
        "no Ready pod matches {selector} in {namespace} ({matched} pods match, none is Running, Ready and not terminating)"
    )]
    NoReadyPod {
        /// Namespace.
        namespace: String,
        /// The label selector (`k=v,...`).
        selector: String,
        /// How many pods matched the selector at all.
        matched: usize,
    },

    /// The pod asked for is not Running and Ready, or is terminating.
    #[error("pod {namespace}/{pod} cannot be forwarded to: {reason}")]
    PodNotReady {
        /// Namespace.
        namespace: String,
        /// Pod.
        pod: String,
        /// Why (phase, readiness, deletion).
        reason: String,
    },

    /// The Service's `targetPort` names a port that no container of the chosen pod declares.
    #[error(
        "service {namespace}/{service} port {port} targets the named port \"{name}\", but no container of pod {pod} declares it"
    )]
    NamedPortNotFound {
        /// Namespace.
        namespace: String,
        /// Service.
        service: String,
        /// The Service port.
        port: u16,
        /// The named target port.
        name: String,
        /// The chosen pod.
        pod: String,
    },

    /// A port number in the Service or the pod is out of range.
    #[error("{what} has port {value}, which is not a valid TCP port")]
    InvalidPort {
        /// Where the number came from (`service kubeflow/x targetPort`).
        what: String,
        /// The value.
        value: i32,
    },

    /// A Kubernetes API call failed.
    #[error("{action}: {source}")]
    Kube {
        /// What we were doing (`getting service kubeflow/ml-pipeline`).
        action: String,
        /// The error from kube.
        #[source]
        source: kube::Error,
    },

    /// The local address could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Forwarding one connection failed.
    #[error("forwarding to pod {namespace}/{pod} port {port}: {message}")]
    Forward {
        /// Namespace.
        namespace: String,
        /// Pod.
        pod: String,
        /// Pod port.
        port: u16,
        /// What went wrong (an error from the kubelet's error channel, a WebSocket error, …).
        message: String,
    },
}

/// What to forward to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A Service port; resolved to a pod and its target port.
    Service {
        /// Service name.
        name: String,
        /// The Service port (`spec.ports[].port`).
        port: u16,
    },
    /// A pod's port.
    Pod {
        /// Pod name.
        name: String,
        /// The container port.
        port: u16,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Service { name, port } => write!(f, "svc/{name}:{port}"),
            Target::Pod { name, port } => write!(f, "pod/{name}:{port}"),
        }
    }
}

/// A pod and port a [`Target`] resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolved {
    /// The pod's name.
    pub pod: String,
    /// The pod's port.
    pub port: u16,
}

/// Sets up a port-forward; [`start`](PortForward::start) it to get a [`PortForwardHandle`].
#[derive(Clone)]
#[must_use = "a port-forward does nothing until it is started"]
pub struct PortForward {
    client: kube::Client,
    namespace: String,
    target: Target,
    local_addr: SocketAddr,
}

impl fmt::Debug for PortForward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortForward")
            .field("namespace", &self.namespace)
            .field("target", &self.target)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl PortForward {
    /// Forwards to a Service port, the way `kubectl port-forward svc/NAME PORT` does.
    /// `port` is the Service's port (`spec.ports[].port`), not the pod's.
    pub fn to_service(
        client: kube::Client,
        namespace: impl Into<String>,
        service: impl Into<String>,
        port: u16,
    ) -> Self {
        Self::new(
            client,
            namespace.into(),
            Target::Service {
                name: service.into(),
                port,
            },
        )
    }

    /// Forwards to a port of one pod.
    pub fn to_pod(
        client: kube::Client,
        namespace: impl Into<String>,
        pod: impl Into<String>,
        port: u16,
    ) -> Self {
        Self::new(
            client,
            namespace.into(),
            Target::Pod {
                name: pod.into(),
                port,
            },
        )
    }

    fn new(client: kube::Client, namespace: String, target: Target) -> Self {
        PortForward {
            client,
            namespace,
            target,
            local_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        }
    }

    /// Listens on `127.0.0.1:port` (default: port 0, a free port chosen by the system).
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_addr.set_port(port);
        self
    }

    /// Listens on this address (default `127.0.0.1:0`).
    pub fn local_addr(mut self, addr: SocketAddr) -> Self {
        self.local_addr = addr;
        self
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// What is forwarded to.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Resolves the target to a pod and port now, without forwarding anything. Useful to check
    /// a Service before starting, and what [`start`](PortForward::start) does first.
    ///
    /// # Errors
    /// The Service or pod does not exist or cannot be read, the Service has no selector or no
    /// such port, no matching pod is Ready, or a named port is not declared by the pod.
    pub async fn resolve(&self) -> Result<Resolved, Error> {
        resolve(&self.client, &self.namespace, &self.target).await
    }

    /// Resolves the target, binds the local address and starts accepting connections.
    ///
    /// # Errors
    /// Everything [`resolve`](PortForward::resolve) reports, and [`Error::Bind`].
    pub async fn start(self) -> Result<PortForwardHandle, Error> {
        let resolved = self.resolve().await?;
        let listener = TcpListener::bind(self.local_addr)
            .await
            .map_err(|source| Error::Bind {
                addr: self.local_addr,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: self.local_addr,
            source,
        })?;
        tracing::debug!(namespace = %self.namespace, target = %self.target, pod = %resolved.pod,
            port = resolved.port, %local_addr, "port-forward listening");
        let (events, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            pods: Api::namespaced(self.client.clone(), &self.namespace),
            client: self.client,
            namespace: self.namespace,
            target: self.target,
            current: Mutex::new(resolved),
            stats: Stats::default(),
            events,
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(PortForwardHandle {
            local_addr,
            shared,
            task: Some(task),
        })
    }
}

/// Counters of a running port-forward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PortForwardStats {
    /// Local connections accepted.
    pub connections: u64,
    /// Connections being forwarded now.
    pub active: u64,
    /// Bytes sent from local clients to the pod.
    pub bytes_sent: u64,
    /// Bytes received from the pod.
    pub bytes_received: u64,
    /// Connections that ended with an error (including error-channel messages).
    pub errors: u64,
    /// How often the Service was re-resolved to another pod.
    pub pod_changes: u64,
}

/// Something that happened on a running port-forward (see [`PortForwardHandle::events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortForwardEvent {
    /// A local connection was accepted.
    Connection {
        /// The local client's address.
        peer: SocketAddr,
        /// The pod it is forwarded to.
        pod: String,
    },
    /// A connection ended cleanly.
    Closed {
        /// The local client's address.
        peer: SocketAddr,
        /// Bytes sent to the pod.
        sent: u64,
        /// Bytes received from the pod.
        received: u64,
    },
    /// A connection failed (it is closed; the listener keeps running).
    Error {
        /// The local client's address.
        peer: SocketAddr,
        /// What went wrong, naming the pod and port.
        message: String,
    },
    /// The Service was re-resolved to another pod because the previous one went away.
    PodChanged {
        /// The previous pod.
        from: String,
        /// The new pod.
        to: String,
    },
}

#[derive(Default)]
struct Stats {
    connections: AtomicU64,
    active: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    errors: AtomicU64,
    pod_changes: AtomicU64,
}

struct Shared {
    client: kube::Client,
    pods: Api<Pod>,
    namespace: String,
    target: Target,
    current: Mutex<Resolved>,
    stats: Stats,
    events: broadcast::Sender<PortForwardEvent>,
}

impl Shared {
    fn current(&self) -> Resolved {
        match self.current.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_current(&self, r: Resolved) {
        match self.current.lock() {
            Ok(mut g) => *g = r,
            Err(poisoned) => *poisoned.into_inner() = r,
        }
    }

    fn emit(&self, event: PortForwardEvent) {
        // No receiver is fine.
        let _ = self.events.send(event);
    }
}

/// A running port-forward. It stops when dropped (or with [`stop`](PortForwardHandle::stop)).
#[must_use = "the port-forward stops when its handle is dropped"]
pub struct PortForwardHandle {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for PortForwardHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortForwardHandle")
            .field("local_addr", &self.local_addr)
            .field("namespace", &self.shared.namespace)
            .field("target", &self.shared.target)
            .field("pod", &self.shared.current().pod)
            .finish_non_exhaustive()
    }
}

impl PortForwardHandle {
    /// The local address connections are accepted on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<local_addr>`, handy for HTTP services.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The pod new connections go to now.
    pub fn pod(&self) -> String {
        self.shared.current().pod
    }

    /// The pod port new connections go to now.
    pub fn pod_port(&self) -> u16 {
        self.shared.current().port
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.shared.namespace
    }

    /// What is forwarded to.
    pub fn target(&self) -> &Target {
        &self.shared.target
    }

    /// The counters so far.
    pub fn stats(&self) -> PortForwardStats {
        let s = &self.shared.stats;
        PortForwardStats {
            connections: s.connections.load(Ordering::Relaxed),
            active: s.active.load(Ordering::Relaxed),
            bytes_sent: s.bytes_sent.load(Ordering::Relaxed),
            bytes_received: s.bytes_received.load(Ordering::Relaxed),
            errors: s.errors.load(Ordering::Relaxed),
            pod_changes: s.pod_changes.load(Ordering::Relaxed),
        }
    }

    /// Subscribes to events from now on (connections, errors, pod changes). A slow receiver
    /// loses the oldest events (it sees [`broadcast::error::RecvError::Lagged`]).
    pub fn events(&self) -> broadcast::Receiver<PortForwardEvent> {
        self.shared.events.subscribe()
    }

    /// True while the listener runs.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops accepting connections, aborts the connections in flight and waits until the
    /// listener is closed.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for PortForwardHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connection tasks live in a JoinSet owned by this task, so aborting it (stop or drop of the
    // handle) aborts every connection in flight too.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    shared.stats.connections.fetch_add(1, Ordering::Relaxed);
                    connections.spawn(handle_connection(socket, peer, shared.clone()));
                }
                Err(e) => {
                    // Typically EMFILE; do not spin.
                    tracing::warn!(error = %e, "port-forward: accepting a local connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle_connection(mut socket: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    shared.stats.active.fetch_add(1, Ordering::Relaxed);
    let result = forward_connection(&mut socket, peer, &shared).await;
    shared.stats.active.fetch_sub(1, Ordering::Relaxed);
    match result {
        Ok((sent, received)) => {
            tracing::debug!(%peer, sent, received, "port-forward: connection closed");
            shared.emit(PortForwardEvent::Closed {
                peer,
                sent,
                received,
            });
        }
        Err(e) => {
            shared.stats.errors.fetch_add(1, Ordering::Relaxed);
            let message = e.to_string();
            tracing::warn!(%peer, error = %message, "port-forward: connection failed");
            shared.emit(PortForwardEvent::Error { peer, message });
        }
    }
    let _ = socket.shutdown().await;
}

async fn forward_connection(
    socket: &mut TcpStream,
    peer: SocketAddr,
    shared: &Shared,
) -> Result<(u64, u64), Error> {
    let mut resolved = shared.current();
    let ws = match channel::open(
        &shared.client,
        &shared.namespace,
        &resolved.pod,
        resolved.port,
    )
    .await
    {
        Ok(ws) => ws,
        Err(first) => {
            // Did the pod go away? Then a Service is re-resolved and the connection retried once.
            match replacement(shared, &resolved).await {
                Some(new) => {
                    tracing::info!(from = %resolved.pod, to = %new.pod, "port-forward: pod went away, switching");
                    shared.stats.pod_changes.fetch_add(1, Ordering::Relaxed);
                    shared.emit(PortForwardEvent::PodChanged {
                        from: resolved.pod.clone(),
                        to: new.pod.clone(),
                    });
                    shared.set_current(new.clone());
                    resolved = new;
                    channel::open(
                        &shared.client,
                        &shared.namespace,
                        &resolved.pod,
                        resolved.port,
                    )
                    .await
                    .map_err(|e| forward_error(shared, &resolved, e.to_string()))?
                }
                None => return Err(forward_error(shared, &resolved, first.to_string())),
            }
        }
    };
    shared.emit(PortForwardEvent::Connection {
        peer,
        pod: resolved.pod.clone(),
    });
    match channel::bridge(socket, ws, resolved.port, CLOSE_GRACE).await {
        Outcome::Done { sent, received } => {
            shared.stats.bytes_sent.fetch_add(sent, Ordering::Relaxed);
            shared
                .stats
                .bytes_received
                .fetch_add(received, Ordering::Relaxed);
            Ok((sent, received))
        }
        Outcome::Failed(message) => Err(forward_error(shared, &resolved, message)),
        Outcome::ChannelError(msg) => {
            let err = forward_error(shared, &resolved, msg);
            // The pod may be gone: check so that the next connection goes to a live pod.
            if let Some(new) = replacement(shared, &resolved).await {
                shared.stats.pod_changes.fetch_add(1, Ordering::Relaxed);
                shared.emit(PortForwardEvent::PodChanged {
                    from: resolved.pod.clone(),
                    to: new.pod.clone(),
                });
                shared.set_current(new);
            }
            Err(err)
        }
    }
}

/// How long a finished connection waits for its WebSocket to close before dropping it.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

fn forward_error(shared: &Shared, resolved: &Resolved, message: String) -> Error {
    Error::Forward {
        namespace: shared.namespace.clone(),
        pod: resolved.pod.clone(),
        port: resolved.port,
        message,
    }
}

/// When `old` is no longer usable and the target is a Service, another pod to forward to.
async fn replacement(shared: &Shared, old: &Resolved) -> Option<Resolved> {
    let Target::Service { .. } = &shared.target else {
        return None;
    };
    match shared.pods.get_opt(&old.pod).await {
        Ok(Some(pod)) if pod_unusable(&pod).is_none() => return None,
        Ok(_) => {}
        Err(e) => {
            tracing::debug!(error = %e, pod = %old.pod, "port-forward: could not check the pod");
            return None;
        }
    }
    match resolve(&shared.client, &shared.namespace, &shared.target).await {
        Ok(new) if new != *old => Some(new),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "port-forward: re-resolving the service failed");
            None
        }
    }
}
