//! Login-response detection.

use http::{HeaderMap, HeaderValue, StatusCode};

use crate::auth::detect::path_of;
use crate::auth::{is_login_location, login_response};

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_static(v));
    }
    h
}

#[test]
fn redirects_to_the_login_are_login_responses() {
    let h = headers(&[(
        "location",
        "/dex/auth?client_id=x&redirect_uri=%2Fauthservice%2Foidc%2Fcallback&state=s",
    )]);
    assert_eq!(
        login_response(StatusCode::FOUND, &h).as_deref(),
        Some("redirected to /dex/auth")
    );
    let h = headers(&[(
        "location",
        "http://localhost:8080/oauth2/start?rd=%2Fpipeline",
    )]);
    assert!(login_response(StatusCode::FOUND, &h).is_some());
    let h = headers(&[("location", "/dex/auth/local/login?back=&state=x")]);
    assert!(login_response(StatusCode::SEE_OTHER, &h).is_some());
    let h = headers(&[("location", "/pipeline/")]);
    assert!(login_response(StatusCode::MOVED_PERMANENTLY, &h).is_none());
    assert!(login_response(StatusCode::FOUND, &HeaderMap::new()).is_none());
}

#[test]
fn statuses() {
    assert!(login_response(StatusCode::UNAUTHORIZED, &HeaderMap::new()).is_some());
    assert!(
        login_response(
            StatusCode::FORBIDDEN,
            &headers(&[("content-type", "text/html; charset=utf-8")])
        )
        .is_some()
    );
    // A backend refusing the user (JSON) or Istio RBAC (text) is not a login.
    assert!(
        login_response(
            StatusCode::FORBIDDEN,
            &headers(&[("content-type", "application/json")])
        )
        .is_none()
    );
    assert!(
        login_response(
            StatusCode::FORBIDDEN,
            &headers(&[("content-type", "text/plain")])
        )
        .is_none()
    );
    assert!(login_response(StatusCode::OK, &headers(&[("content-type", "text/html")])).is_none());
    assert!(login_response(StatusCode::NOT_FOUND, &HeaderMap::new()).is_none());
}

#[test]
fn locations() {
    assert!(is_login_location("http://gw/dex/auth/local?req=1"));
    assert!(is_login_location("/dex/approval?req=1"));
    assert!(is_login_location("/oauth2/sign_in"));
    assert!(is_login_location("/login/oidc?code=1"));
    assert!(is_login_location("/authservice/oidc/callback"));
    assert!(!is_login_location("/dex/authors"));
    assert!(!is_login_location("/pipeline/apis/v2beta1/runs"));
    assert!(!is_login_location("/oauth2/callback?code=1"));
    assert_eq!(path_of("https://h:1/a/b?c=d#e"), "/a/b");
    assert_eq!(path_of("https://h:1?c=d"), "/");
    assert_eq!(path_of("/x?y"), "/x");
}

#[tokio::test]
async fn the_redirect_policy_stops_at_the_login() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    let redirect = |to: &str| ResponseTemplate::new(302).insert_header("location", to);
    Mock::given(method("GET"))
        .and(path("/pipeline"))
        .respond_with(redirect("/pipeline/"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pipeline/"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pipeline/apis/v2beta1/runs"))
        .respond_with(redirect(
            "/dex/auth?client_id=kubeflow-oidc-authservice&state=s",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/loop"))
        .respond_with(redirect("/loop"))
        .mount(&server)
        .await;
    let client = reqwest::Client::builder()
        .redirect(crate::auth::redirect_policy())
        .build()
        .expect("client");

    let resp = client
        .get(format!("{}/pipeline", server.uri()))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200, "ordinary redirects are followed");
    let resp = client
        .get(format!("{}/pipeline/apis/v2beta1/runs", server.uri()))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 302, "the login redirect reaches the caller");
    assert_eq!(
        login_response(resp.status(), resp.headers()).as_deref(),
        Some("redirected to /dex/auth")
    );
    assert!(
        client
            .get(format!("{}/loop", server.uri()))
            .send()
            .await
            .is_err(),
        "loops are bounded"
    );
}
