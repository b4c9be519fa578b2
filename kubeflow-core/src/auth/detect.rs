//! Telling "the gateway wants a login" apart from an API answer.
//!
//! What a Kubeflow gateway does with a request that has no valid session (see
//! `research/katib-notebooks-auth.md` §5.3):
//! - oidc-authservice (Kubeflow ≤ 1.8): `302` to `/dex/auth?…`;
//! - oauth2-proxy (≥ 1.9): `403` with its HTML sign-in page, or `401` on API paths
//!   (`/api/`, `/apis/`, `/ml_metadata`), or `302` to `/oauth2/start` / `/dex/auth`;
//! - Istio `RequestAuthentication` (≥ 1.9.1) with a bad bearer token: `401`.
//!
//! A `403` with a JSON body is a backend refusing the user (an authorization error, not a
//! login), so it is *not* a login response.

use http::{HeaderMap, StatusCode};

/// Paths (or path parts) of the login machinery behind the gateway.
const LOGIN_PATHS: &[&str] = &[
    "/dex/auth",
    "/dex/approval",
    "/oauth2/start",
    "/oauth2/sign_in",
    "/authservice/",
    "/login/oidc",
];

/// When the response says the gateway wants a login, what it did (for
/// [`Error::NotAuthenticated`](crate::Error::NotAuthenticated)'s `message`, e.g.
/// `redirected to /dex/auth`); otherwise `None`. Never includes a query string.
pub(crate) fn login_response(status: StatusCode, headers: &HeaderMap) -> Option<String> {
    if status.is_redirection() {
        let location = headers.get(http::header::LOCATION)?.to_str().ok()?;
        return is_login_location(location).then(|| format!("redirected to {}", path_of(location)));
    }
    if status == StatusCode::UNAUTHORIZED {
        return Some("answered HTTP 401 Unauthorized".to_owned());
    }
    if status == StatusCode::FORBIDDEN && is_html(headers) {
        return Some("answered HTTP 403 with an HTML page (a sign-in page)".to_owned());
    }
    None
}

/// True when `location` (an absolute URL, or a path with an optional query) points at the
/// login machinery: Dex's `/dex/auth…` or `/dex/approval`, oauth2-proxy's `/oauth2/start` or
/// `/oauth2/sign_in`, oidc-authservice's `/authservice/…` or `/login/oidc`. Use it on a
/// response's final URL when redirects were followed and an HTML page came back.
pub(crate) fn is_login_location(location: &str) -> bool {
    let path = path_of(location);
    LOGIN_PATHS.iter().any(|p| {
        path.match_indices(p).any(|(i, _)| {
            // `/dex/auth` must end there or continue with `/` (`/dex/auth/local/login`),
            // not match `/dex/authors`.
            let rest = &path[i + p.len()..];
            p.ends_with('/') || rest.is_empty() || rest.starts_with('/')
        })
    })
}

/// A redirect policy for the HTTP layer's own client: follows ordinary redirects (at most
/// 10, like reqwest's default) but stops at a redirect into the login machinery, so the
/// `302 → /dex/auth` reaches the caller, where [`login_response`] recognises it, instead of
/// becoming a `200` HTML login page.
pub(crate) fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if is_login_location(attempt.url().path()) {
            attempt.stop()
        } else if attempt.previous().len() >= 10 {
            attempt.error("too many redirects (more than 10)")
        } else {
            attempt.follow()
        }
    })
}

/// The path of a Location value, without scheme, host, query or fragment.
pub(crate) fn path_of(location: &str) -> &str {
    let without_query = location.split(['?', '#']).next().unwrap_or("");
    match without_query.find("://") {
        Some(i) => {
            let after = &without_query[i + 3..];
            after.find('/').map_or("/", |j| &after[j..])
        }
        None => without_query,
    }
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().contains("html"))
}
