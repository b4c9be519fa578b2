//! Secrets never reach tracing output, `Debug`, `Display` or errors. A test binary of its own:
//! tracing caches per-callsite interest process-wide, so a subscriber set by one test of a
//! shared binary can miss events whose callsites other tests registered first.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubeflow_core::config::RetryPolicy;
use kubeflow_core::{Credentials, Endpoint, KubeflowClient, KubeflowConfig};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn direct(server: &MockServer) -> KubeflowConfig {
    KubeflowConfig::new(Endpoint::direct(&server.uri()).expect("mock URL")).retry(
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(5))
            .with_max_backoff(Duration::from_millis(20)),
    )
}

/// Captures tracing output.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_logs_debug_or_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer s3cr3t-token"))
        .and(header("x-api-key", "k3y-value"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber of this binary");

    let cfg = direct(&server)
        .credentials(Credentials::bearer("s3cr3t-token"))
        .header("x-api-key", "k3y-value");
    let kf = KubeflowClient::new(cfg.clone()).expect("client");
    let err = kf
        .service("")
        .expect("svc")
        .get("x")
        .send()
        .await
        .expect_err("503");
    let texts = [
        format!("{cfg:?}"),
        format!("{kf:?}"),
        format!("{err:?}"),
        err.to_string(),
        String::from_utf8_lossy(&capture.0.lock().map(|v| v.clone()).unwrap_or_default())
            .into_owned(),
    ];
    assert!(
        texts[4].contains("retrying"),
        "tracing captured nothing: {}",
        texts[4]
    );
    for t in texts {
        assert!(!t.contains("s3cr3t-token"), "token leaked: {t}");
        assert!(!t.contains("k3y-value"), "header value leaked: {t}");
    }
}
