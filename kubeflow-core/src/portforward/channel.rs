//! The data path of one forwarded connection: the `pods/portforward` WebSocket spoken directly.
//!
//! The protocol (`v4.channel.k8s.io`, also accepted as `v5.channel.k8s.io`): every binary message
//! starts with a channel byte; for one port, channel 0 carries data and channel 1 errors. The first
//! message the server sends on each channel is the port number (2 bytes, little endian). A
//! message on the error channel means the port is unusable.
//!
//! kube's `Portforwarder` moves every 4 KiB read through a duplex pipe, a channel and one task
//! that serves both directions in turn, flushing the WebSocket after each 4 KiB message. This
//! bridges the local socket and the WebSocket directly instead: both directions run concurrently
//! in the connection's task, local reads go out as messages of up to [`CHUNK`] bytes, and the
//! WebSocket is flushed only when the local socket has nothing more to read at once.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use futures::{SinkExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Resource;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self as ws, Message};

/// The largest payload read from the local socket into one WebSocket message.
pub(super) const CHUNK: usize = 64 * 1024;

/// Data channel of the (only) port.
const DATA: u8 = 0;
/// Error channel of the (only) port.
const ERROR: u8 = 1;
/// `v5.channel.k8s.io`: `[255, ch]` closes channel `ch`.
const CLOSE_SIGNAL: u8 = 255;

/// Opens the `pods/portforward` WebSocket to one port of a pod.
pub(super) async fn open(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    port: u16,
) -> Result<WebSocketStream<impl AsyncRead + AsyncWrite + Unpin + Send + 'static>, kube::Error> {
    let request = kube::core::Request::new(Pod::url_path(&(), Some(namespace)))
        .portforward(pod, &[port])
        .map_err(kube::Error::BuildRequest)?;
    Ok(client.connect(request).await?.into_stream())
}

/// How a forwarded connection ended.
pub(super) enum Outcome {
    /// It ended; bytes sent to and received from the pod.
    Done {
        /// Bytes sent to the pod.
        sent: u64,
        /// Bytes received from the pod.
        received: u64,
    },
    /// The kubelet reported an error on the port's error channel.
    ChannelError(String),
    /// Copying failed (what went wrong).
    Failed(String),
}

/// Why the pod-to-local direction stopped.
enum DownEnd {
    /// The WebSocket was closed (or the server closed the data channel).
    Closed,
    /// A message on the error channel.
    ChannelError(String),
}

/// Why the local-to-pod direction failed.
enum UpError {
    /// Reading the local connection failed.
    Local(String),
    /// Sending on the WebSocket failed.
    Send(String),
}

impl UpError {
    fn local(e: io::Error) -> Self {
        UpError::Local(format!("reading from the local connection: {e}"))
    }

    fn send(e: ws::Error) -> Self {
        UpError::Send(format!("sending to the API server: {e}"))
    }
}

/// Copies between `socket` and the WebSocket until one side ends. `grace` bounds how long the
/// server's answer to our close is waited for once the local client has closed its side.
pub(super) async fn bridge<S>(
    socket: &mut TcpStream,
    ws: WebSocketStream<S>,
    port: u16,
    grace: Duration,
) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let sent = AtomicU64::new(0);
    let received = AtomicU64::new(0);
    let done = || Outcome::Done {
        sent: sent.load(Ordering::Relaxed),
        received: received.load(Ordering::Relaxed),
    };
    // The futures below borrow the socket; this block ends them before the socket is used again.
    {
        let local: &TcpStream = socket;
        let (mut sink, mut stream) = ws.split();
        // We sent a Close (the local client closed its side).
        let closing = AtomicBool::new(false);

        // Local client -> pod.
        let up = async {
            let mut buf = BytesMut::new();
            let mut unflushed = false;
            loop {
                if buf.is_empty() {
                    start_chunk(&mut buf);
                }
                let n = match local.try_read_buf(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        // Flush only when the local client has nothing more for us right now, so
                        // that a burst goes out in as few writes as the WebSocket buffer allows.
                        if unflushed {
                            sink.flush().await.map_err(UpError::send)?;
                            unflushed = false;
                        }
                        local.readable().await.map_err(UpError::local)?;
                        continue;
                    }
                    Err(e) => return Err(UpError::local(e)),
                };
                if n == 0 {
                    // The local client is done. v4 has no half-close: close the WebSocket; what
                    // the pod still sends before the server answers is delivered.
                    closing.store(true, Ordering::Relaxed);
                    sink.send(Message::Close(None))
                        .await
                        .map_err(UpError::send)?;
                    return Ok(());
                }
                sent.fetch_add(n as u64, Ordering::Relaxed);
                let chunk = buf.split().freeze();
                sink.feed(Message::Binary(chunk))
                    .await
                    .map_err(UpError::send)?;
                unflushed = true;
            }
        };

        // Pod -> local client.
        let down = async {
            let mut initialized = [false; 2];
            while let Some(msg) = stream.next().await {
                let msg = match msg {
                    Ok(msg) => msg,
                    // The connection dropped without (or during) the closing handshake: the end
                    // of the stream, as for kube's own forwarder.
                    Err(
                        e @ (ws::Error::ConnectionClosed
                        | ws::Error::AlreadyClosed
                        | ws::Error::Protocol(
                            ws::error::ProtocolError::ResetWithoutClosingHandshake,
                        )),
                    ) => {
                        tracing::debug!(error = %e, "port-forward: WebSocket ended without a close");
                        return Ok(DownEnd::Closed);
                    }
                    Err(e) if closing.load(Ordering::Relaxed) => {
                        tracing::debug!(error = %e, "port-forward: WebSocket error while closing");
                        return Ok(DownEnd::Closed);
                    }
                    Err(e) => return Err(format!("receiving from the API server: {e}")),
                };
                let bytes = match msg {
                    Message::Binary(bytes) => bytes,
                    Message::Close(_) => return Ok(DownEnd::Closed),
                    // Pings are answered by tungstenite; nothing else is expected.
                    _ => continue,
                };
                let Some((&channel, payload)) = bytes.split_first() else {
                    continue;
                };
                match channel {
                    DATA | ERROR => {
                        let i = usize::from(channel);
                        if !initialized[i] {
                            // The first message of a channel is the port number.
                            let Ok(got) = <[u8; 2]>::try_from(payload) else {
                                return Err(format!(
                                    "the first message on channel {channel} has {} bytes, not a 2-byte port number",
                                    payload.len()
                                ));
                            };
                            let got = u16::from_le_bytes(got);
                            if got != port {
                                return Err(format!(
                                    "the server answered for port {got} on channel {channel}, not {port}"
                                ));
                            }
                            initialized[i] = true;
                        } else if channel == ERROR {
                            if !payload.is_empty() {
                                return Ok(DownEnd::ChannelError(
                                    String::from_utf8_lossy(payload).into_owned(),
                                ));
                            }
                        } else if !payload.is_empty() {
                            write_all(local, payload)
                                .await
                                .map_err(|e| format!("writing to the local connection: {e}"))?;
                            received.fetch_add(payload.len() as u64, Ordering::Relaxed);
                        }
                    }
                    CLOSE_SIGNAL if payload.first() == Some(&DATA) => return Ok(DownEnd::Closed),
                    CLOSE_SIGNAL => {}
                    other => return Err(format!("the server sent on unknown channel {other}")),
                }
            }
            Ok(DownEnd::Closed)
        };

        tokio::pin!(up, down);
        tokio::select! {
            up_end = &mut up => {
                let up_end = match up_end {
                    Err(UpError::Local(e)) => return Outcome::Failed(e),
                    Ok(()) => Ok(()),
                    Err(UpError::Send(e)) => Err(e),
                };
                // Local EOF (Close sent), or sending failed. Either way, what the server still
                // sends is delivered until it closes, but a server that does not answer is not
                // waited on for long.
                let down_end = tokio::time::timeout(grace, &mut down).await;
                return match (up_end, down_end) {
                    (Ok(()), Ok(Ok(DownEnd::ChannelError(msg)))) => {
                        tracing::debug!(message = %msg, "port-forward: error message after the connection ended");
                        done()
                    }
                    (Ok(()), Ok(Ok(DownEnd::Closed)) | Err(_)) => done(),
                    // Sending failed because the server closed: its close is the news.
                    (Err(e), Ok(Ok(DownEnd::Closed))) => {
                        tracing::debug!(error = %e, "port-forward: sending failed as the server closed");
                        done()
                    }
                    (_, Ok(Ok(DownEnd::ChannelError(msg)))) => Outcome::ChannelError(msg),
                    (_, Ok(Err(e))) | (Err(e), Err(_)) => Outcome::Failed(e),
                };
            }
            down_end = &mut down => match down_end {
                Ok(DownEnd::Closed) => {}
                Ok(DownEnd::ChannelError(msg)) => return Outcome::ChannelError(msg),
                Err(e) => return Outcome::Failed(e),
            },
        }
    };
    // The pod's side ended first: let the local client see the end, then wait until it closes its
    // side too (or sends anything, which can no longer be delivered), as a copy would.
    let _ = socket.shutdown().await;
    let mut one = [0u8; 1];
    let _ = socket.read(&mut one).await;
    done()
}

/// Makes `buf` hold just the data channel byte, with room for [`CHUNK`] bytes after it. The
/// allocation of the previous message is reused once the WebSocket has copied it out.
fn start_chunk(buf: &mut BytesMut) {
    buf.reserve(CHUNK + 1);
    buf.put_u8(DATA);
}

/// Writes all of `data` to the (non-blocking) socket.
async fn write_all(socket: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match socket.try_write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => socket.writable().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
