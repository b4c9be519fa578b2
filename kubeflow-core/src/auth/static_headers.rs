//! Credentials that are fixed headers: none, a bearer token, a raw cookie, and the Kubernetes
//! client identity (kube authenticates itself on the kube-proxy path, so no header).

use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use super::sensitive_value;
use crate::{Error, Result};

/// Headers built once, when the authenticator is built.
pub(super) struct StaticHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl StaticHeaders {
    /// No headers (no credentials, or the Kubernetes client's own identity).
    pub(super) fn none() -> Self {
        StaticHeaders {
            headers: Vec::new(),
        }
    }

    /// `Authorization: Bearer <token>`. Surrounding whitespace (a trailing newline from a
    /// file or an environment variable) is dropped.
    pub(super) fn bearer(token: &SecretString) -> Result<Self> {
        let token = token.expose_secret().trim();
        if token.is_empty() {
            return Err(Error::config("the bearer token is empty"));
        }
        let value = sensitive_value(&format!("Bearer {token}")).ok_or_else(|| {
            Error::config("the bearer token contains characters not allowed in an HTTP header")
        })?;
        Ok(StaticHeaders {
            headers: vec![(http::header::AUTHORIZATION, value)],
        })
    }

    /// `Cookie: <value>`, the value as given (e.g. `oauth2_proxy_kubeflow=…`).
    pub(super) fn cookie(cookie: &SecretString) -> Result<Self> {
        let cookie = cookie.expose_secret().trim();
        if cookie.is_empty() {
            return Err(Error::config("the session cookie is empty"));
        }
        let value = sensitive_value(cookie).ok_or_else(|| {
            Error::config("the session cookie contains characters not allowed in an HTTP header")
        })?;
        Ok(StaticHeaders {
            headers: vec![(http::header::COOKIE, value)],
        })
    }

    /// The headers (clones; cheap).
    pub(super) fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        self.headers.clone()
    }
}
