//! No secret in logs, `Debug` or errors, across a full Dex login, a bearer request, a token
//! file and a TokenRequest, with every crate logging at TRACE.

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::gateway::{CODE, CSRF, DexUi, Gateway, PASSWORD, Proxy, SESSION_MARK, Setup, USER};
use super::token_request::{SA_TOKEN_MARK, api_server, kube_ctx, sa};
use super::{authenticator, capture_traces};
use crate::auth::{Authenticator, Credentials};

const BEARER: &str = "bearer-TOKENSECRET-1234";
const FILE_TOKEN: &str = "file-TOKENSECRET-5678";

fn assert_clean(what: &str, text: &str) {
    for secret in [
        PASSWORD,
        SESSION_MARK,
        CSRF,
        BEARER,
        FILE_TOKEN,
        SA_TOKEN_MARK,
        CODE,
    ] {
        assert!(
            !text.contains(secret),
            "{what} contains the secret {secret:?}:\n{text}"
        );
    }
}

#[tokio::test]
async fn secrets_never_reach_traces_debug_or_errors() {
    let (logs, guard) = capture_traces();

    // A full Dex login (split oauth2-proxy cookie, approval, chooser), then its use.
    let mut setup = Setup::new(Proxy::OAuth2Proxy { split: true }, DexUi::Current);
    setup.approval = true;
    setup.chooser = true;
    let gw = Gateway::start(setup).await;
    let dex = authenticator(Credentials::dex(USER, PASSWORD), Some(&gw.uri()));
    let headers = dex.headers().await.expect("login");
    let mut request = reqwest::Client::new().get(gw.uri());
    for (k, v) in &headers {
        request = request.header(k, v);
    }
    assert_eq!(request.send().await.expect("app").status(), 200);
    dex.refresh().await.expect("re-login");
    assert_eq!(gw.logins(), 2);
    assert_clean(
        "Debug of the Dex authenticator",
        &format!("{dex:?} {headers:?}"),
    );

    // A wrong password: the error names the user, never the password.
    let wrong = authenticator(
        Credentials::dex(USER, format!("{PASSWORD}-wrong")),
        Some(&gw.uri()),
    );
    let err = wrong.headers().await.expect_err("wrong password");
    assert_clean("the wrong-password error", &format!("{err} {err:?}"));

    // A bearer request.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/healthz"))
        .and(header("authorization", format!("Bearer {BEARER}").as_str()))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let bearer = authenticator(Credentials::bearer(BEARER), None);
    let mut request = reqwest::Client::new().get(format!("{}/apis/v2beta1/healthz", server.uri()));
    let headers = bearer.headers().await.expect("bearer");
    for (k, v) in &headers {
        request = request.header(k, v);
    }
    assert_eq!(request.send().await.expect("bearer request").status(), 200);
    assert_clean(
        "Debug of the bearer authenticator",
        &format!("{bearer:?} {headers:?}"),
    );

    // A token file.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("token");
    std::fs::write(&file, FILE_TOKEN).expect("write");
    let from_file = authenticator(Credentials::token_file(&file), None);
    let headers = from_file.headers().await.expect("token file");
    assert_clean(
        "Debug of the token-file authenticator",
        &format!("{from_file:?} {headers:?}"),
    );

    // A TokenRequest.
    let (api, _) = api_server(std::time::Duration::from_secs(3600)).await;
    let sa_auth = Authenticator::new(sa(), kube_ctx(&api)).expect("authenticator");
    let headers = sa_auth.headers().await.expect("token request");
    assert_clean(
        "Debug of the service-account authenticator",
        &format!("{sa_auth:?} {headers:?}"),
    );

    drop(guard);
    let text = logs.text();
    // The capture worked: our hops and reqwest's own events are in it.
    assert!(text.contains("Dex login step"), "{text}");
    assert!(text.contains("/dex/auth/local/login"), "{text}");
    assert!(text.contains("obtained a service-account token"), "{text}");
    assert_clean("the trace output", &text);
}
