//! Who we are: credentials for the Kubeflow endpoint.
//!
//! Secrets are [`SecretString`]s: `Debug`, `Display`, errors and logs never show them.
//!
//! Each kind of [`Credentials`] has its own module: static headers (none, bearer, cookie,
//! kube), a token file re-read when it changes, the Dex password login through the gateway,
//! and the Kubernetes TokenRequest API; the crate-internal `Authenticator` dispatches to them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use secrecy::SecretString;
use url::Url;

use crate::Result;
use crate::error::{BoxError, Error};

pub(crate) mod detect;
mod dex;
mod static_headers;
mod token_file;
mod token_request;

#[cfg(test)]
mod tests;

#[allow(unused_imports)]
pub(crate) use detect::{is_login_location, login_response, redirect_policy};

/// How requests to the Kubeflow endpoint are authenticated.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Credentials {
    /// No credentials.
    #[default]
    None,
    /// A static bearer token (`Authorization: Bearer …`).
    Bearer(SecretString),
    /// A file holding a bearer token, re-read when it changes (KFP's projected
    /// service-account token at `/var/run/secrets/kubeflow/pipelines/token`).
    TokenFile(PathBuf),
    /// A Dex static-password login through the gateway (oauth2-proxy or oidc-authservice),
    /// repeated automatically when the session expires.
    Dex(DexLogin),
    /// A raw `Cookie` header value, e.g. `oauth2_proxy_kubeflow=…` copied from a browser.
    Cookie(SecretString),
    /// A Kubernetes service-account token obtained with the TokenRequest API and renewed
    /// before it expires.
    ServiceAccount(ServiceAccountToken),
    /// The identity of the Kubernetes client (kubeconfig or in-cluster); used by
    /// [`Endpoint::KubeProxy`](crate::Endpoint::KubeProxy), where kube authenticates.
    Kube,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Bearer(_) => f.write_str("Bearer(REDACTED)"),
            Credentials::TokenFile(p) => f.debug_tuple("TokenFile").field(p).finish(),
            Credentials::Dex(d) => f.debug_tuple("Dex").field(d).finish(),
            Credentials::Cookie(_) => f.write_str("Cookie(REDACTED)"),
            Credentials::ServiceAccount(s) => f.debug_tuple("ServiceAccount").field(s).finish(),
            Credentials::Kube => f.write_str("Kube"),
        }
    }
}

impl Credentials {
    /// A static bearer token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Credentials::Bearer(SecretString::from(token.into()))
    }

    /// A Dex static-password login.
    pub fn dex(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Dex(DexLogin::new(username, password))
    }

    /// A raw cookie header value.
    pub fn cookie(cookie: impl Into<String>) -> Self {
        Credentials::Cookie(SecretString::from(cookie.into()))
    }

    /// A token file re-read when it changes.
    pub fn token_file(path: impl Into<PathBuf>) -> Self {
        Credentials::TokenFile(path.into())
    }

    /// A short human-readable description (never a secret).
    pub fn describe(&self) -> String {
        match self {
            Credentials::None => "none".into(),
            Credentials::Bearer(_) => "bearer token".into(),
            Credentials::TokenFile(p) => format!("token file {}", p.display()),
            Credentials::Dex(d) => format!("Dex login as {}", d.username),
            Credentials::Cookie(_) => "session cookie".into(),
            Credentials::ServiceAccount(s) => {
                format!(
                    "service-account token {}/{}",
                    s.namespace, s.service_account
                )
            }
            Credentials::Kube => "Kubernetes client identity".into(),
        }
    }
}

/// A Dex static-password login through the Kubeflow gateway.
#[derive(Clone)]
#[non_exhaustive]
pub struct DexLogin {
    /// The user (an email for Dex static passwords, e.g. `user@example.com`).
    pub username: String,
    /// The password.
    pub password: SecretString,
    /// The connector when Dex offers several (default `local`).
    pub connector: Option<String>,
}

impl DexLogin {
    /// A login with the `local` connector.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        DexLogin {
            username: username.into(),
            password: SecretString::from(password.into()),
            connector: None,
        }
    }

    /// Chooses the Dex connector (e.g. `ldap`).
    pub fn connector(mut self, connector: impl Into<String>) -> Self {
        self.connector = Some(connector.into());
        self
    }
}

impl fmt::Debug for DexLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DexLogin")
            .field("username", &self.username)
            .field("password", &"REDACTED")
            .field("connector", &self.connector)
            .finish()
    }
}

/// A Kubernetes service-account token from the TokenRequest API.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServiceAccountToken {
    /// Namespace of the service account.
    pub namespace: String,
    /// Name of the service account (e.g. `default-editor`).
    pub service_account: String,
    /// The audience (e.g. `pipelines.kubeflow.org`); none means the API server's default.
    pub audience: Option<String>,
    /// Requested lifetime (the API server may shorten it; minimum 10 minutes).
    pub expiration: Duration,
}

impl ServiceAccountToken {
    /// A token for `namespace/service_account`, one hour, default audience.
    pub fn new(namespace: impl Into<String>, service_account: impl Into<String>) -> Self {
        ServiceAccountToken {
            namespace: namespace.into(),
            service_account: service_account.into(),
            audience: None,
            expiration: Duration::from_secs(3600),
        }
    }

    /// Sets the audience.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets the requested lifetime.
    pub fn expiration(mut self, d: Duration) -> Self {
        self.expiration = d;
        self
    }
}

/// What an [`Authenticator`] may use besides its credentials. No network I/O happens when it is built.
#[derive(Clone)]
pub(crate) struct AuthContext {
    /// The endpoint's base URL (the gateway for Dex logins).
    pub base_url: Option<Url>,
    /// Builds a reqwest client with the endpoint's TLS, proxy and timeout settings (Dex uses
    /// its own client: a cookie jar and no automatic redirects).
    pub client_builder: Arc<dyn Fn() -> reqwest::ClientBuilder + Send + Sync>,
    /// The Kubernetes client, when configured (TokenRequest).
    pub kube: Option<kube::Client>,
}

/// Turns [`Credentials`] into request headers, and refreshes them when the server says they
/// are no longer good.
///
/// Share one per endpoint (behind an `Arc`): the Dex session, the token-file cache and the
/// service-account token are cached inside, and concurrent refreshes share one login.
pub(crate) struct Authenticator {
    credentials: Credentials,
    provider: Provider,
}

/// The state behind each kind of credentials.
enum Provider {
    /// None, bearer, cookie, kube: fixed headers built once.
    Static(static_headers::StaticHeaders),
    /// A token file, re-read when it changes.
    TokenFile(token_file::TokenFile),
    /// A Dex login through the gateway, with its cookie jar.
    Dex(dex::DexSession),
    /// A service-account token from the TokenRequest API.
    ServiceAccount(token_request::TokenRequester),
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The credentials' own Debug redacts every secret; the provider state (cached tokens,
        // the cookie jar) is never printed.
        f.debug_struct("Authenticator")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Builds an authenticator. No network I/O.
    ///
    /// Fails with [`Error::Config`] when the credentials cannot work with this context: a
    /// bearer token or cookie that is not a valid header value, a Dex login without a
    /// gateway URL, a service-account token without a Kubernetes client.
    pub(crate) fn new(credentials: Credentials, ctx: AuthContext) -> Result<Self> {
        let provider = match &credentials {
            Credentials::None | Credentials::Kube => {
                Provider::Static(static_headers::StaticHeaders::none())
            }
            Credentials::Bearer(token) => {
                Provider::Static(static_headers::StaticHeaders::bearer(token)?)
            }
            Credentials::Cookie(cookie) => {
                Provider::Static(static_headers::StaticHeaders::cookie(cookie)?)
            }
            Credentials::TokenFile(path) => {
                Provider::TokenFile(token_file::TokenFile::new(path.clone()))
            }
            Credentials::Dex(login) => Provider::Dex(dex::DexSession::new(login.clone(), &ctx)?),
            Credentials::ServiceAccount(spec) => Provider::ServiceAccount(
                token_request::TokenRequester::new(spec.clone(), ctx.kube.clone())?,
            ),
        };
        Ok(Authenticator {
            credentials,
            provider,
        })
    }

    /// The headers to add to a request (values marked sensitive). May log in first (Dex),
    /// read a token file, or request a token.
    pub(crate) async fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>> {
        match &self.provider {
            Provider::Static(s) => Ok(s.headers()),
            Provider::TokenFile(t) => Ok(vec![(http::header::AUTHORIZATION, t.header().await?)]),
            Provider::Dex(d) => Ok(d
                .cookie_header()
                .await?
                .map(|v| (http::header::COOKIE, v))
                .into_iter()
                .collect()),
            Provider::ServiceAccount(t) => {
                Ok(vec![(http::header::AUTHORIZATION, t.header().await?)])
            }
        }
    }

    /// True when [`Authenticator::refresh`] can get new credentials (Dex, token file,
    /// service-account token), so a 401 is worth one more attempt.
    pub(crate) fn can_refresh(&self) -> bool {
        !matches!(self.provider, Provider::Static(_))
    }

    /// Drops cached credentials and obtains new ones (logs in again, re-reads the file, …).
    ///
    /// Call it once after a 401 or a login response (see [`is_login_response`]), then retry
    /// with fresh [`Authenticator::headers`]. Concurrent callers that wait while another one
    /// logs in share that login. A no-op for credentials that cannot be refreshed.
    /// Prefer [`Authenticator::refresh_after`], which also skips a refresh that another
    /// request already made.
    pub(crate) async fn refresh(&self) -> Result<()> {
        match &self.provider {
            Provider::Static(_) => Ok(()),
            Provider::TokenFile(t) => t.refresh().await,
            Provider::Dex(d) => d.refresh().await,
            Provider::ServiceAccount(t) => t.refresh().await,
        }
    }

    /// Like [`Authenticator::refresh`], but only when the current credentials are still the
    /// ones `used` (the headers of the attempt that was refused). When another request
    /// refreshed them meanwhile, this returns at once and the retry uses the new ones: N
    /// requests refused with one expired session cause one Dex login, not N.
    pub(crate) async fn refresh_after(&self, used: &[(HeaderName, HeaderValue)]) -> Result<()> {
        let find = |name: &HeaderName| used.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        match &self.provider {
            Provider::Static(_) => Ok(()),
            // Re-reading a file is cheap; no need to compare.
            Provider::TokenFile(t) => t.refresh().await,
            Provider::Dex(d) => d.refresh_if_current(find(&http::header::COOKIE)).await,
            Provider::ServiceAccount(t) => {
                t.refresh_if_current(find(&http::header::AUTHORIZATION))
                    .await
            }
        }
    }
}

/// An [`Error::Auth`].
fn auth_error(message: impl Into<String>, source: Option<BoxError>) -> Error {
    Error::Auth {
        message: message.into(),
        source,
    }
}

/// A header value marked sensitive (never printed by `http`'s `Debug`), or `None` when the
/// value holds characters a header cannot carry. Callers build the error: it must name what
/// was wrong, never the value.
fn sensitive_value(value: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(true);
    Some(v)
}
