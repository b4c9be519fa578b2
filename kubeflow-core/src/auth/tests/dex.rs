//! The Dex login through the fake gateway, in every shape.

use std::sync::atomic::Ordering;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::gateway::{DexUi, Gateway, PASSWORD, Proxy, SESSION_MARK, Setup, USER};
use super::{authenticator, ctx, header_text};
use crate::Error;
use crate::auth::{Authenticator, Credentials, DexLogin};

fn dex(connector: Option<&str>) -> Credentials {
    let mut login = DexLogin::new(USER, PASSWORD);
    if let Some(c) = connector {
        login = login.connector(c);
    }
    Credentials::Dex(login)
}

/// Logs in through the gateway and checks the Cookie header carries exactly the session the
/// gateway issued, is marked sensitive, and opens the application.
async fn login_and_use(setup: Setup) -> (Gateway, Authenticator) {
    let gw = Gateway::start(setup).await;
    let connector = (setup.connector != "local").then_some(setup.connector);
    let auth = authenticator(dex(connector), Some(&gw.uri()));
    assert!(auth.can_refresh());
    let headers = auth
        .headers()
        .await
        .unwrap_or_else(|e| panic!("login failed for {setup:?}: {e}"));
    assert_eq!(headers.len(), 1, "{setup:?}");
    let (name, value) = &headers[0];
    assert_eq!(name, http::header::COOKIE);
    assert!(value.is_sensitive());
    let cookie = header_text(&headers, &http::header::COOKIE).unwrap_or_default();
    let session = gw.session();
    assert!(!session.is_empty());
    for pair in &session {
        assert!(
            cookie.split("; ").any(|p| p == pair),
            "{pair} missing from the Cookie header for {setup:?}"
        );
    }
    assert!(
        !cookie.contains("csrf"),
        "the cleared CSRF cookie is not sent: {setup:?}"
    );
    assert_eq!(gw.logins(), 1);

    // The header opens the application.
    let resp = reqwest::Client::new()
        .get(gw.uri())
        .header(http::header::COOKIE, value.clone())
        .send()
        .await
        .expect("request the app");
    assert_eq!(resp.status(), 200, "{setup:?}");

    // A second call uses the session, no new login.
    let again = auth.headers().await.expect("cached headers");
    assert_eq!(header_text(&again, &http::header::COOKIE), Some(cookie));
    assert_eq!(gw.logins(), 1);
    (gw, auth)
}

#[tokio::test]
async fn oauth2_proxy_current_dex_without_approval() {
    login_and_use(Setup::new(
        Proxy::OAuth2Proxy { split: false },
        DexUi::Current,
    ))
    .await;
}

#[tokio::test]
async fn oauth2_proxy_split_cookie_with_approval() {
    let mut s = Setup::new(Proxy::OAuth2Proxy { split: true }, DexUi::Current);
    s.approval = true;
    let (gw, _) = login_and_use(s).await;
    let session = gw.session();
    assert!(session[0].starts_with("oauth2_proxy_kubeflow_0="));
    assert!(session[1].starts_with("oauth2_proxy_kubeflow_1="));
}

#[tokio::test]
async fn oauth2_proxy_old_dex_with_chooser_and_approval() {
    let mut s = Setup::new(Proxy::OAuth2Proxy { split: false }, DexUi::Old);
    s.approval = true;
    s.chooser = true;
    login_and_use(s).await;
}

#[tokio::test]
async fn oauth2_proxy_chooser_with_configured_connector() {
    let mut s = Setup::new(Proxy::OAuth2Proxy { split: true }, DexUi::Current);
    s.chooser = true;
    s.connector = "ldap";
    login_and_use(s).await;
}

#[tokio::test]
async fn authservice_old_dex_with_approval() {
    let mut s = Setup::new(Proxy::AuthService { legacy: false }, DexUi::Old);
    s.approval = true;
    let (gw, _) = login_and_use(s).await;
    assert!(gw.session()[0].starts_with("authservice_session="));
}

#[tokio::test]
async fn authservice_current_dex_without_approval() {
    login_and_use(Setup::new(
        Proxy::AuthService { legacy: false },
        DexUi::Current,
    ))
    .await;
}

#[tokio::test]
async fn authservice_legacy_callback_with_chooser() {
    let mut s = Setup::new(Proxy::AuthService { legacy: true }, DexUi::Old);
    s.chooser = true;
    s.approval = true;
    login_and_use(s).await;
}

#[tokio::test]
async fn wrong_password_is_a_clear_error() {
    let gw = Gateway::start(Setup::new(
        Proxy::OAuth2Proxy { split: false },
        DexUi::Current,
    ))
    .await;
    let auth = authenticator(
        Credentials::dex(USER, "not-the-password-4711"),
        Some(&gw.uri()),
    );
    let err = auth.headers().await.expect_err("wrong password must fail");
    let text = err.to_string();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(text.contains("rejected the username or password"), "{text}");
    assert!(text.contains(USER), "{text}");
    assert!(!text.contains("not-the-password-4711"), "{text}");
    assert!(!format!("{err:?}").contains("not-the-password-4711"));
    assert_eq!(gw.logins(), 0);
}

#[tokio::test]
async fn refresh_logs_in_again_and_the_new_cookie_is_used() {
    let gw = Gateway::start(Setup::new(
        Proxy::OAuth2Proxy { split: false },
        DexUi::Current,
    ))
    .await;
    let auth = authenticator(dex(None), Some(&gw.uri()));
    let first = header_text(&auth.headers().await.expect("login"), &http::header::COOKIE)
        .unwrap_or_default();
    assert!(first.contains(&format!("{SESSION_MARK}-1")), "{first}");

    // The session expires at the gateway: the old cookie no longer opens the app.
    gw.expire_sessions();
    let resp = reqwest::Client::new()
        .get(gw.uri())
        .header(http::header::COOKIE, first.as_str())
        .send()
        .await
        .expect("request");
    assert!(crate::auth::login_response(resp.status(), resp.headers()).is_some());

    auth.refresh().await.expect("re-login");
    assert_eq!(gw.logins(), 2);
    let second = header_text(
        &auth.headers().await.expect("headers"),
        &http::header::COOKIE,
    )
    .unwrap_or_default();
    assert!(second.contains(&format!("{SESSION_MARK}-2")), "{second}");
    assert!(!second.contains(&format!("{SESSION_MARK}-1")), "{second}");
    let resp = reqwest::Client::new()
        .get(gw.uri())
        .header(http::header::COOKIE, second.as_str())
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn concurrent_refreshes_share_one_login() {
    let gw = Gateway::start(Setup::new(
        Proxy::AuthService { legacy: false },
        DexUi::Current,
    ))
    .await;
    let auth = authenticator(dex(None), Some(&gw.uri()));
    auth.headers().await.expect("login");
    assert_eq!(gw.logins(), 1);
    let results = futures::future::join_all((0..5).map(|_| auth.refresh())).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(gw.logins(), 2, "five concurrent refreshes, one login");
    // Concurrent first uses share one login too.
    let auth = authenticator(dex(None), Some(&gw.uri()));
    let results = futures::future::join_all((0..5).map(|_| auth.headers())).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(gw.logins(), 3);
}

#[tokio::test]
async fn expired_session_cookies_trigger_a_new_login() {
    // The callback's cookie lives one second; headers() notices the empty jar and logs in.
    let server = MockServer::start().await;
    let uri = server.uri();
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    struct ShortSession(std::sync::Arc<std::sync::atomic::AtomicUsize>);
    impl wiremock::Respond for ShortSession {
        fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            ResponseTemplate::new(302)
                .insert_header("location", "/")
                .insert_header(
                    "set-cookie",
                    format!("authservice_session=s{n}; Path=/; Max-Age=1").as_str(),
                )
        }
    }
    Mock::given(method("GET"))
        .and(path("/"))
        .and(wiremock::matchers::header_exists("cookie"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/dex/auth/local?req=r"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/dex/auth/local"))
        .respond_with(ResponseTemplate::new(200).set_body_string("form"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/dex/auth/local"))
        .respond_with(
            ResponseTemplate::new(303)
                .insert_header("location", "/authservice/oidc/callback?code=c"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/authservice/oidc/callback"))
        .respond_with(ShortSession(n.clone()))
        .mount(&server)
        .await;
    let auth = authenticator(dex(None), Some(&uri));
    let first = header_text(&auth.headers().await.expect("login"), &http::header::COOKIE);
    assert_eq!(first.as_deref(), Some("authservice_session=s1"));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let second = header_text(
        &auth.headers().await.expect("re-login"),
        &http::header::COOKIE,
    );
    assert_eq!(second.as_deref(), Some("authservice_session=s2"));
}

#[tokio::test]
async fn redirects_off_the_gateway_are_refused() {
    let server = MockServer::start().await;
    // A different origin (another loopback address): never followed.
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            "http://127.0.0.2:9/dex/auth?client_id=x&state=secret-state",
        ))
        .mount(&server)
        .await;
    let auth = authenticator(dex(None), Some(&server.uri()));
    let err = auth.headers().await.expect_err("off-origin redirect");
    let text = err.to_string();
    assert!(
        text.contains("redirected off its own origin (to http://127.0.0.2:9)"),
        "{text}"
    );
    assert!(!text.contains("secret-state"), "{text}");
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
}

#[tokio::test]
async fn redirect_loops_are_bounded() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/dex/auth?loop=1"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/dex/auth"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/"))
        .mount(&server)
        .await;
    let auth = authenticator(dex(None), Some(&server.uri()));
    let err = auth.headers().await.expect_err("a loop");
    assert!(
        err.to_string()
            .contains("did not finish within 15 requests"),
        "{err}"
    );
    assert_eq!(
        server.received_requests().await.map(|r| r.len()),
        Some(crate::auth::dex::MAX_HOPS)
    );
}

#[tokio::test]
async fn unknown_connector_is_named() {
    let mut s = Setup::new(Proxy::OAuth2Proxy { split: false }, DexUi::Current);
    s.chooser = true;
    let gw = Gateway::start(s).await;
    // The gateway's catch-all answers for /dex/auth/github: not a configured connector.
    Mock::given(method("GET"))
        .and(path("/dex/auth/github"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_string("Connector ID does not match a valid Connector"),
        )
        .with_priority(1)
        .mount(&gw.server)
        .await;
    let auth = authenticator(dex(Some("github")), Some(&gw.uri()));
    let err = auth.headers().await.expect_err("unknown connector");
    let text = err.to_string();
    assert!(
        text.contains("HTTP 404") && text.contains("/dex/auth/github"),
        "{text}"
    );
    assert!(text.contains("connector `github`"), "{text}");
}

#[tokio::test]
async fn a_gateway_without_login_needs_no_cookie() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_string("open"))
        .mount(&server)
        .await;
    let auth = authenticator(dex(None), Some(&server.uri()));
    assert!(auth.headers().await.expect("no login needed").is_empty());
    assert!(auth.headers().await.expect("still none").is_empty());
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
}

#[tokio::test]
async fn the_gateway_refusing_the_session_is_reported() {
    // oauth2-proxy that keeps answering 403 after the callback (e.g. a cookie secret mismatch).
    let mut s = Setup::new(Proxy::OAuth2Proxy { split: false }, DexUi::Current);
    s.accept_sessions = false;
    let gw = Gateway::start(s).await;
    let auth = authenticator(dex(None), Some(&gw.uri()));
    let err = auth.headers().await.expect_err("refused");
    assert!(
        err.to_string()
            .contains("did not accept the session cookie"),
        "{err}"
    );
    assert_eq!(gw.logins(), 1);
}

#[tokio::test]
async fn dex_needs_a_gateway_url() {
    let err = Authenticator::new(dex(None), ctx(None)).expect_err("no base URL");
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("gateway URL"), "{err}");
    let err = Authenticator::new(Credentials::dex(USER, ""), ctx(Some("http://127.0.0.1:1/")))
        .expect_err("empty password");
    assert!(err.to_string().contains("password is empty"), "{err}");
}

#[tokio::test]
async fn refresh_after_skips_a_login_another_request_already_made() {
    let gw = Gateway::start(Setup::new(
        Proxy::OAuth2Proxy { split: true },
        DexUi::Current,
    ))
    .await;
    let auth = authenticator(dex(None), Some(&gw.uri()));
    let h1 = auth.headers().await.expect("login");
    assert_eq!(gw.logins(), 1);
    // Two requests were refused with h1; the first re-logs in, the second sees a new session.
    auth.refresh_after(&h1).await.expect("re-login");
    assert_eq!(gw.logins(), 2);
    auth.refresh_after(&h1).await.expect("already renewed");
    assert_eq!(gw.logins(), 2);
    let h2 = auth.headers().await.expect("headers");
    assert_ne!(
        header_text(&h1, &http::header::COOKIE),
        header_text(&h2, &http::header::COOKIE)
    );
    // Refused with the current session: log in again.
    auth.refresh_after(&h2).await.expect("re-login");
    assert_eq!(gw.logins(), 3);
    // Concurrent refusals with the same headers: one login.
    let h3 = auth.headers().await.expect("headers");
    let results = futures::future::join_all((0..4).map(|_| auth.refresh_after(&h3))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(gw.logins(), 4);
}
