//! Tests of the credentials: headers of every kind, the Dex login against a fake gateway in
//! every shape Kubeflow has had, token files, TokenRequest, login detection and redaction.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use url::Url;

use super::{AuthContext, Authenticator, Credentials};

mod detect;
mod dex;
mod gateway;
mod redaction;
mod static_creds;
mod token_file;
mod token_request;

/// A context with a plain reqwest builder.
fn ctx(base: Option<&str>) -> AuthContext {
    AuthContext {
        base_url: base.map(|b| Url::parse(b).expect("test base URL")),
        client_builder: Arc::new(reqwest::Client::builder),
        kube: None,
    }
}

fn authenticator(credentials: Credentials, base: Option<&str>) -> Authenticator {
    Authenticator::new(credentials, ctx(base)).expect("authenticator")
}

/// The value of one header among `headers()`' answer, as text.
fn header_text(
    headers: &[(http::HeaderName, http::HeaderValue)],
    name: &http::HeaderName,
) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.to_str().expect("ASCII header").to_owned())
}

/// Everything written by a `tracing` subscriber, for redaction checks.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

/// Captures every event at every level (ours, reqwest's, hyper's, kube's) on this thread
/// until the guard drops. `#[tokio::test]` runs on one thread, so spawned tasks are included.
fn capture_traces() -> (Captured, tracing::subscriber::DefaultGuard) {
    let buf = Captured::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (buf, tracing::subscriber::set_default(subscriber))
}
