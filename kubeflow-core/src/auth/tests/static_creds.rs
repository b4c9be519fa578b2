//! None, bearer, cookie and kube credentials.

use super::{authenticator, ctx, header_text};
use crate::Error;
use crate::auth::{Authenticator, Credentials};

#[tokio::test]
async fn none_and_kube_send_no_header() {
    for c in [Credentials::None, Credentials::Kube] {
        let auth = authenticator(c, None);
        assert!(auth.headers().await.expect("headers").is_empty());
        assert!(!auth.can_refresh());
        auth.refresh().await.expect("a no-op");
    }
}

#[tokio::test]
async fn bearer_sends_authorization() {
    let auth = authenticator(Credentials::bearer(" tok-abc.def \n"), None);
    let headers = auth.headers().await.expect("headers");
    assert_eq!(headers.len(), 1);
    assert_eq!(
        header_text(&headers, &http::header::AUTHORIZATION).as_deref(),
        Some("Bearer tok-abc.def")
    );
    assert!(headers[0].1.is_sensitive());
    assert!(!auth.can_refresh());
    assert!(!format!("{:?}", headers[0].1).contains("tok-abc"));
}

#[tokio::test]
async fn cookie_sends_cookie() {
    let auth = authenticator(Credentials::cookie("oauth2_proxy_kubeflow=abc123"), None);
    let headers = auth.headers().await.expect("headers");
    assert_eq!(
        header_text(&headers, &http::header::COOKIE).as_deref(),
        Some("oauth2_proxy_kubeflow=abc123")
    );
    assert!(headers[0].1.is_sensitive());
    assert!(!auth.can_refresh());
}

#[test]
fn bad_header_values_are_config_errors_without_the_value() {
    for c in [
        Credentials::bearer("tok\nsecret-part"),
        Credentials::cookie("a=b\r\nX-Evil: secret-part"),
        Credentials::bearer("   "),
    ] {
        let err = Authenticator::new(c, ctx(None)).expect_err("invalid");
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert!(!err.to_string().contains("secret-part"), "{err}");
        assert!(!format!("{err:?}").contains("secret-part"), "{err:?}");
    }
}

#[test]
fn debug_never_shows_secrets() {
    let creds = [
        Credentials::bearer("bearer-SECRET"),
        Credentials::cookie("c=cookie-SECRET"),
        Credentials::dex("user@example.com", "password-SECRET"),
    ];
    for c in creds {
        let text = format!("{c:?} {} {:?}", c.describe(), authenticator_debug(&c));
        assert!(!text.contains("SECRET"), "{text}");
    }
}

fn authenticator_debug(c: &Credentials) -> String {
    Authenticator::new(c.clone(), ctx(Some("http://127.0.0.1:1/")))
        .map(|a| format!("{a:?}"))
        .unwrap_or_else(|e| e.to_string())
}
