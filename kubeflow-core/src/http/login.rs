//! Recognising "the Kubeflow gateway wants a login" in a response.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};

use crate::auth::detect;

/// `Some(what happened)` when the response is the gateway asking for a login rather than an
/// answer of the service: a redirect to Dex / oauth2-proxy / authservice, an HTML sign-in page,
/// or a non-JSON 401/403 from the auth proxy. Only for gateway endpoints, except the redirect,
/// which no Kubeflow API sends otherwise.
pub(crate) fn login_required(
    gateway: bool,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<String> {
    if status.is_redirection() {
        return detect::login_response(status, headers);
    }
    if !gateway {
        return None;
    }
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let html = ct.contains("text/html") || body.trim_ascii_start().starts_with(b"<");
    let json = ct.contains("json");
    match status {
        // Behind the gateway every 401 is the gateway's (oauth2-proxy answers `{}` as JSON on
        // API routes, Istio's RequestAuthentication plain text), never the service's own.
        StatusCode::UNAUTHORIZED => Some("HTTP 401 from the gateway".to_owned()),
        // A JSON 403 is the service refusing the user; an HTML or text one is the auth proxy.
        StatusCode::FORBIDDEN if !json => Some(format!(
            "HTTP 403 from the auth proxy{}",
            if html { " (sign-in page)" } else { "" }
        )),
        s if s.is_success() && html && looks_like_login_form(body) => {
            Some("the gateway answered with a login page".to_owned())
        }
        _ => None,
    }
}

fn looks_like_login_form(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]).to_ascii_lowercase();
    text.contains("<form")
        && (text.contains("name=\"password\"")
            || text.contains("/oauth2/start")
            || text.contains("sign in with")
            || text.contains("/dex/auth"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn redirects_to_login() {
        let m = h(&[("location", "/dex/auth?client_id=x&state=y")]);
        assert_eq!(
            login_required(false, StatusCode::FOUND, &m, b"").as_deref(),
            Some("redirected to /dex/auth")
        );
        let m = h(&[("location", "https://kf.example.com/oauth2/start?rd=%2F")]);
        assert!(login_required(true, StatusCode::FOUND, &m, b"").is_some());
        let m = h(&[("location", "/v2/models/toy")]);
        assert!(login_required(true, StatusCode::TEMPORARY_REDIRECT, &m, b"").is_none());
    }

    #[test]
    fn sign_in_pages() {
        let m = h(&[("content-type", "text/html; charset=utf-8")]);
        assert!(
            login_required(
                true,
                StatusCode::FORBIDDEN,
                &m,
                b"<!DOCTYPE html><form action=\"/oauth2/start\">"
            )
            .is_some()
        );
        let m = h(&[("content-type", "text/plain")]);
        assert!(login_required(true, StatusCode::UNAUTHORIZED, &m, b"Unauthorized").is_some());
        // A JSON 401/403 is the service's own answer.
        let m = h(&[("content-type", "application/json")]);
        assert!(
            login_required(
                true,
                StatusCode::FORBIDDEN,
                &m,
                br#"{"code":7,"message":"denied"}"#
            )
            .is_none()
        );
        // Not a gateway: a 403 is just a 403.
        let m = h(&[("content-type", "text/html")]);
        assert!(login_required(false, StatusCode::FORBIDDEN, &m, b"<html>").is_none());
        // A 200 login form where an API answer was expected.
        let m = h(&[("content-type", "text/html")]);
        let page = b"<html><form method=\"post\"><input name=\"login\"><input name=\"password\" type=\"password\"></form>";
        assert!(login_required(true, StatusCode::OK, &m, page).is_some());
        assert!(login_required(true, StatusCode::OK, &m, b"<html>KFP UI</html>").is_none());
    }
}
