//! Port-forward data path against a fake API server that speaks the `v4.channel.k8s.io`
//! port-forward WebSocket protocol (what the kubelet answers through the API server): bytes flow
//! both ways, are counted, and a message on the error channel is surfaced. The fake "pod"
//! upper-cases what it receives, and answers `fail` with an error-channel message.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use kubeflow_core::portforward::{PortForward, PortForwardEvent};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ERROR_TEXT: &str = "error forwarding port 8080 to pod web-0, uid : connection refused";

/// A TCP stream with bytes already read (the request head) put back in front.
struct Prefixed {
    prefix: Vec<u8>,
    pos: usize,
    inner: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.prefix.len() {
            let n = (self.prefix.len() - self.pos).min(buf.remaining());
            let start = self.pos;
            buf.put_slice(&self.prefix[start..start + n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Starts the fake API server on 127.0.0.1; it runs until the test's runtime ends.
async fn fake_apiserver() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Err(e) = serve(socket).await {
                    eprintln!("fake apiserver: {e}");
                }
            });
        }
    });
    Ok(addr)
}

/// Accepts the upgrade with the port-forward subprotocol kube asks for.
#[allow(clippy::result_large_err)] // the signature is tungstenite's `Callback`
fn v4_protocol(_req: &Request, mut resp: Response) -> Result<Response, ErrorResponse> {
    resp.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("v4.channel.k8s.io"),
    );
    Ok(resp)
}

async fn serve(mut socket: TcpStream) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let request_line = text.lines().next().unwrap_or_default().to_owned();
    if !text.contains("upgrade: websocket") {
        // GET /api/v1/namespaces/ns/pods/web-0
        let body = if request_line.starts_with("get /api/v1/namespaces/ns/pods/web-0 ") {
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": { "name": "web-0", "namespace": "ns" },
                "status": { "phase": "Running", "conditions": [{ "type": "Ready", "status": "True" }] },
            })
            .to_string()
        } else {
            return Err(format!("unexpected request {request_line}").into());
        };
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(resp.as_bytes()).await?;
        socket.shutdown().await?;
        return Ok(());
    }
    if !request_line.starts_with("get /api/v1/namespaces/ns/pods/web-0/portforward?&ports=8080 ") {
        return Err(format!("unexpected upgrade {request_line}").into());
    }
    let stream = Prefixed {
        prefix: head,
        pos: 0,
        inner: socket,
    };
    let mut ws = tokio_tungstenite::accept_hdr_async(stream, v4_protocol).await?;
    // The first frame of each channel names the port (little endian).
    let [lo, hi] = 8080u16.to_le_bytes();
    ws.send(Message::binary(vec![0, lo, hi])).await?;
    ws.send(Message::binary(vec![1, lo, hi])).await?;
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Binary(b) if b.first() == Some(&0) && b.len() > 1 => {
                let data = &b[1..];
                if data == b"fail" {
                    let mut frame = vec![1];
                    frame.extend_from_slice(ERROR_TEXT.as_bytes());
                    ws.send(Message::binary(frame)).await?;
                } else {
                    let mut frame = vec![0];
                    frame.extend(data.iter().map(u8::to_ascii_uppercase));
                    ws.send(Message::binary(frame)).await?;
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(())
}

async fn next_event(
    events: &mut tokio::sync::broadcast::Receiver<PortForwardEvent>,
) -> Result<PortForwardEvent, Box<dyn std::error::Error>> {
    Ok(tokio::time::timeout(Duration::from_secs(10), events.recv()).await??)
}

#[tokio::test]
async fn bytes_flow_both_ways_and_errors_are_surfaced() -> TestResult {
    let addr = fake_apiserver().await?;
    let client = kube::Client::try_from(kube::Config::new(format!("http://{addr}").parse()?))?;
    let handle = PortForward::to_pod(client, "ns", "web-0", 8080)
        .start()
        .await?;
    let mut events = handle.events();

    // Two connections in sequence, each with its own WebSocket.
    for round in 0..2u64 {
        let mut conn = TcpStream::connect(handle.local_addr()).await?;
        conn.write_all(b"hello kubeflow").await?;
        let mut answer = [0u8; 14];
        tokio::time::timeout(Duration::from_secs(10), conn.read_exact(&mut answer)).await??;
        assert_eq!(&answer, b"HELLO KUBEFLOW");
        drop(conn);

        let ev = next_event(&mut events).await?;
        assert!(
            matches!(&ev, PortForwardEvent::Connection { pod, .. } if pod == "web-0"),
            "{ev:?}"
        );
        let ev = next_event(&mut events).await?;
        match ev {
            PortForwardEvent::Closed { sent, received, .. } => {
                assert_eq!((sent, received), (14, 14))
            }
            other => panic!("round {round}: expected Closed, got {other:?}"),
        }
    }
    let stats = handle.stats();
    assert_eq!(
        (
            stats.connections,
            stats.bytes_sent,
            stats.bytes_received,
            stats.errors
        ),
        (2, 28, 28, 0)
    );

    // The error channel: the connection is closed, the message surfaced and counted.
    let mut conn = TcpStream::connect(handle.local_addr()).await?;
    conn.write_all(b"fail").await?;
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut rest)).await??;
    assert!(rest.is_empty());
    let ev = next_event(&mut events).await?;
    assert!(matches!(ev, PortForwardEvent::Connection { .. }), "{ev:?}");
    match next_event(&mut events).await? {
        PortForwardEvent::Error { message, .. } => {
            assert_eq!(
                message,
                format!("forwarding to pod ns/web-0 port 8080: {ERROR_TEXT}")
            );
        }
        other => panic!("expected Error, got {other:?}"),
    }
    assert_eq!(handle.stats().errors, 1);

    // And the listener still works afterwards.
    let mut conn = TcpStream::connect(handle.local_addr()).await?;
    conn.write_all(b"again").await?;
    let mut answer = [0u8; 5];
    tokio::time::timeout(Duration::from_secs(10), conn.read_exact(&mut answer)).await??;
    assert_eq!(&answer, b"AGAIN");
    handle.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_large_transfer_arrives_whole_and_in_order() -> TestResult {
    let addr = fake_apiserver().await?;
    let client = kube::Client::try_from(kube::Config::new(format!("http://{addr}").parse()?))?;
    let handle = PortForward::to_pod(client, "ns", "web-0", 8080)
        .start()
        .await?;
    let mut events = handle.events();

    // Several times the 64 KiB message size, not a multiple of it, written while reading back
    // (the fake pod upper-cases what it gets, message by message).
    let data: Vec<u8> = (0..(3 << 20) + 12345)
        .map(|i: usize| b'a' + (i % 26) as u8)
        .collect();
    let expected = data.to_ascii_uppercase();
    let conn = TcpStream::connect(handle.local_addr()).await?;
    let (mut rd, mut wr) = conn.into_split();
    let writer = tokio::spawn(async move { wr.write_all(&data).await.map(|()| wr) });
    let mut back = vec![0u8; expected.len()];
    tokio::time::timeout(Duration::from_secs(30), rd.read_exact(&mut back)).await??;
    let wr = writer.await??;
    assert!(back == expected, "bytes changed on the way");
    drop((rd, wr));

    let ev = next_event(&mut events).await?;
    assert!(matches!(ev, PortForwardEvent::Connection { .. }), "{ev:?}");
    match next_event(&mut events).await? {
        PortForwardEvent::Closed { sent, received, .. } => {
            assert_eq!((sent, received), (back.len() as u64, back.len() as u64))
        }
        other => panic!("expected Closed, got {other:?}"),
    }
    assert_eq!(handle.stats().errors, 0);
    handle.stop().await;
    Ok(())
}
