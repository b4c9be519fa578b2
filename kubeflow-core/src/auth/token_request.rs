//! A service-account token from the Kubernetes TokenRequest API
//! (`POST /api/v1/namespaces/{ns}/serviceaccounts/{sa}/token`), what
//! `kubectl create token` does; renewed at 80 % of its lifetime.
//!
//! The request goes through `kube::Client::request_text` and the answer is parsed here, field
//! by field: kube's typed call logs the whole body (with the token) when it fails to decode.

use std::time::{Duration, Instant};

use http::HeaderValue;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{ServiceAccountToken, auth_error, sensitive_value};
use crate::{Error, Result};

/// The API server refuses shorter lifetimes.
const MIN_EXPIRATION: Duration = Duration::from_secs(600);

/// A service-account token spec, the Kubernetes client, and the current token.
pub(super) struct TokenRequester {
    spec: ServiceAccountToken,
    kube: kube::Client,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

struct Cached {
    value: HeaderValue,
    renew_at: Instant,
}

impl TokenRequester {
    /// Checks the settings. No I/O.
    pub(super) fn new(spec: ServiceAccountToken, kube: Option<kube::Client>) -> Result<Self> {
        let kube = kube.ok_or_else(|| {
            Error::config(format!(
                "a service-account token for {}/{} needs a Kubernetes client (kubeconfig or in-cluster), but none is configured",
                spec.namespace, spec.service_account
            ))
        })?;
        check_name("namespace", &spec.namespace)?;
        check_name("service account", &spec.service_account)?;
        if spec.expiration < MIN_EXPIRATION {
            return Err(Error::config(format!(
                "a service-account token must be requested for at least 10 minutes, not {:?}",
                spec.expiration
            )));
        }
        if spec
            .audience
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(Error::config("the service-account token audience is empty"));
        }
        Ok(TokenRequester {
            spec,
            kube,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// `Bearer <token>`, requesting a new token when there is none or it is 80 % through
    /// its lifetime.
    pub(super) async fn header(&self) -> Result<HeaderValue> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.value.clone());
        }
        let fresh = self.request().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Requests a new token now.
    pub(super) async fn refresh(&self) -> Result<()> {
        let mut cached = self.cached.lock().await;
        *cached = None;
        *cached = Some(self.request().await?);
        Ok(())
    }

    /// Requests a new token unless the cached one is no longer `used` (another caller
    /// already renewed it).
    pub(super) async fn refresh_if_current(&self, used: Option<&HeaderValue>) -> Result<()> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Some(&c.value) != used
        {
            tracing::debug!("the service-account token was renewed meanwhile");
            return Ok(());
        }
        *cached = None;
        *cached = Some(self.request().await?);
        Ok(())
    }

    async fn request(&self) -> Result<Cached> {
        let spec = &self.spec;
        let who = format!("{}/{}", spec.namespace, spec.service_account);
        let requested = spec.expiration;
        let body = json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": spec.audience.iter().collect::<Vec<_>>(),
                "expirationSeconds": i64::try_from(requested.as_secs()).unwrap_or(i64::MAX),
            }
        });
        let data = serde_json::to_vec(&body).map_err(|e| {
            auth_error(
                format!("could not encode the TokenRequest for {who}"),
                Some(Box::new(e)),
            )
        })?;
        let request = kube::core::Request::new(format!(
            "/api/v1/namespaces/{}/serviceaccounts",
            spec.namespace
        ))
        .create_subresource(
            "token",
            &spec.service_account,
            &kube::api::PostParams::default(),
            data,
        )
        .map_err(|e| {
            auth_error(
                format!("could not build the TokenRequest for {who}"),
                Some(Box::new(e)),
            )
        })?;
        let started = Instant::now();
        let text = self.kube.request_text(request).await.map_err(|e| {
            let hint = match &e {
                kube::Error::Api(s) if s.code == 403 => {
                    " (the Kubernetes identity may not create tokens for this service account: it needs `create` on `serviceaccounts/token`)"
                }
                kube::Error::Api(s) if s.code == 404 => " (does the service account exist?)",
                _ => "",
            };
            auth_error(
                format!("the TokenRequest for {who} failed{hint}"),
                Some(Box::new(e)),
            )
        })?;
        let (token, expires) = parse_status(&text).map_err(|what| {
            auth_error(
                format!("the TokenRequest answer for {who} is not usable: {what}"),
                None,
            )
        })?;
        let value = sensitive_value(&format!("Bearer {token}")).ok_or_else(|| {
            auth_error(
                format!(
                    "the token issued for {who} holds characters not allowed in an HTTP header"
                ),
                None,
            )
        })?;
        // What the server granted (it may shorten the request), never longer than asked for: a
        // local clock running behind must not stretch it.
        let lifetime = expires
            .and_then(|t| {
                let ms = t.as_millisecond() - Timestamp::now().as_millisecond();
                u64::try_from(ms).ok().map(Duration::from_millis)
            })
            .map_or(requested, |l| l.min(requested));
        let renew_after = lifetime.mul_f64(0.8);
        tracing::debug!(
            service_account = %who,
            lifetime_s = lifetime.as_secs(),
            "obtained a service-account token"
        );
        Ok(Cached {
            value,
            renew_at: started + renew_after,
        })
    }
}

/// `status.token` and `status.expirationTimestamp`, read without ever echoing the body.
fn parse_status(text: &str) -> std::result::Result<(String, Option<Timestamp>), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not JSON (line {}, column {}: {:?})",
            e.line(),
            e.column(),
            e.classify()
        )
    })?;
    let status = v
        .get("status")
        .ok_or_else(|| "it has no `status`".to_owned())?;
    let token = status
        .get("token")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| "`status.token` is missing or empty".to_owned())?;
    // A missing or odd expiry is not fatal: we then renew at 80 % of the requested lifetime.
    let expires = status
        .get("expirationTimestamp")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Timestamp>().ok());
    Ok((token.to_owned(), expires))
}

/// Namespace and service-account names are DNS names: this also keeps them from changing the
/// request path.
fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::config(format!(
            "invalid {what} name {name:?} for a service-account token (lowercase letters, digits, `-` and `.` only)"
        )))
    }
}
