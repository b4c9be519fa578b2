//! The Dex static-password login through the Kubeflow gateway, as a state machine driven by
//! redirects (`research/katib-notebooks-auth.md` §5.3).
//!
//! One login, hop by hop, with our own client (no automatic redirects, a fresh cookie jar):
//!
//! 1. `GET <gateway>/`. oidc-authservice (Kubeflow ≤ 1.8) redirects to `/dex/auth?…`;
//!    oauth2-proxy (≥ 1.9) answers `403` (its sign-in page) or `401`, so we go to
//!    `/oauth2/start?rd=/`, which redirects to `/dex/auth?…`.
//! 2. `/dex/auth` either redirects to the connector or shows a connector chooser (HTTP 200):
//!    we rewrite `/auth` to `/auth/<connector>` (`local` unless configured).
//! 3. The login form: `/dex/auth/local/login?back=&state=…` (current Dex) or
//!    `/dex/auth/local?req=…` (old Dex). We `POST` `login` and `password`
//!    (form-urlencoded) to the same URL. A redirect means Dex accepted them; the form shown
//!    again (HTTP 200) means it did not.
//! 4. `/dex/approval?req=…`: when Dex shows it, we `POST approval=approve`.
//! 5. The callback (`/oauth2/callback`, `/authservice/oidc/callback` or `/login/oidc`) sets the
//!    session cookie (`oauth2_proxy_kubeflow`, maybe split into `_0`, `_1`, …, or
//!    `authservice_session`) and redirects to the app, which we fetch once to finish.
//!
//! Every hop must stay on the gateway's origin; at most [`MAX_HOPS`] hops. The whole cookie
//! jar is kept (cookie names differ between versions). Each hop is logged at debug level with
//! its path only: no query string, no cookie, no form.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderValue, StatusCode};
use reqwest::cookie::{CookieStore, Jar};
use secrecy::ExposeSecret;
use url::Url;

use super::{AuthContext, DexLogin, auth_error, detect};
use crate::{Error, Result};

/// The most requests one login makes (the longest real flow takes 10).
pub(super) const MAX_HOPS: usize = 15;

/// The Dex connector used when none is configured.
const DEFAULT_CONNECTOR: &str = "local";

type ClientBuilderFn = Arc<dyn Fn() -> reqwest::ClientBuilder + Send + Sync>;

/// A Dex login and the session it produced.
pub(super) struct DexSession {
    login: DexLogin,
    base_url: Url,
    client_builder: ClientBuilderFn,
    /// The current session; the lock also makes logins single-flight.
    session: tokio::sync::Mutex<Option<Session>>,
    /// How many logins were attempted (success or not): lets a waiting `refresh()` see that
    /// another caller logged in meanwhile.
    attempts: AtomicU64,
}

/// What one login left behind.
struct Session {
    jar: Arc<Jar>,
    /// The gateway set cookies: when they are all gone (expired), log in again.
    had_cookies: bool,
}

impl fmt::Debug for DexSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DexSession")
            .field("login", &self.login)
            .field("gateway", &self.base_url.origin().ascii_serialization())
            .finish_non_exhaustive()
    }
}

/// Where the login is on the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    /// `…/auth`: Dex's connector chooser.
    Chooser,
    /// `…/auth/<connector>` or `…/auth/<connector>/login`: the password form.
    LoginForm,
    /// `…/approval`: the "grant access" page.
    Approval,
    /// `…/oauth2/sign_in`: oauth2-proxy's sign-in page.
    SignIn,
    /// Some other part of the login machinery (`/dex/…`, `/oauth2/…`, callbacks).
    Machinery,
    /// The application.
    App,
}

fn classify(path: &str) -> Page {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if segments.last() == Some(&"approval") {
        return Page::Approval;
    }
    if let Some(i) = segments.iter().rposition(|s| *s == "auth") {
        match &segments[i + 1..] {
            [] => return Page::Chooser,
            [_] | [_, "login"] => return Page::LoginForm,
            _ => {}
        }
    }
    if path.ends_with("/oauth2/sign_in") {
        return Page::SignIn;
    }
    let machinery = ["/dex/", "/oauth2/", "/authservice/", "/login/oidc"];
    if machinery.iter().any(|m| path.contains(m)) || detect::is_login_location(path) {
        return Page::Machinery;
    }
    Page::App
}

/// What we posted on the previous hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Posted {
    Credentials,
    Approval,
}

impl DexSession {
    /// Checks the settings. No I/O.
    pub(super) fn new(login: DexLogin, ctx: &AuthContext) -> Result<Self> {
        let base_url = ctx.base_url.clone().ok_or_else(|| {
            Error::config(
                "a Dex login needs the gateway URL (Endpoint::Gateway), but the endpoint has none",
            )
        })?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "a Dex login needs an http or https gateway URL, not {}://",
                base_url.scheme()
            )));
        }
        if login.username.trim().is_empty() {
            return Err(Error::config("the Dex username is empty"));
        }
        if login.password.expose_secret().is_empty() {
            return Err(Error::config("the Dex password is empty"));
        }
        Ok(DexSession {
            login,
            base_url,
            client_builder: ctx.client_builder.clone(),
            session: tokio::sync::Mutex::new(None),
            attempts: AtomicU64::new(0),
        })
    }

    /// The `Cookie` header for the gateway, logging in first when there is no session or its
    /// cookies expired. `None` when the gateway did not ask for a login.
    pub(super) async fn cookie_header(&self) -> Result<Option<HeaderValue>> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref() {
            match self.cookies(&s.jar) {
                Some(v) => return Ok(Some(v)),
                None if !s.had_cookies => return Ok(None),
                None => tracing::debug!("the gateway session cookies expired; logging in again"),
            }
        }
        *session = None;
        let s = self.login_counted().await?;
        let header = self.cookies(&s.jar);
        *session = Some(s);
        Ok(header)
    }

    /// Forgets the session and logs in again. Callers that were waiting while another one
    /// logged in use that login instead of starting their own.
    pub(super) async fn refresh(&self) -> Result<()> {
        let seen = self.attempts.load(Ordering::Acquire);
        let mut session = self.session.lock().await;
        if self.attempts.load(Ordering::Acquire) != seen {
            tracing::debug!("another caller just logged in to Dex; using that session");
            return Ok(());
        }
        *session = None;
        *session = Some(self.login_counted().await?);
        Ok(())
    }

    /// Logs in again unless the session changed since `used` was handed out (then another
    /// caller already logged in).
    pub(super) async fn refresh_if_current(&self, used: Option<&HeaderValue>) -> Result<()> {
        let mut session = self.session.lock().await;
        if let Some(s) = session.as_ref()
            && let Some(current) = self.cookies(&s.jar)
            && Some(&current) != used
        {
            tracing::debug!("the gateway session was renewed meanwhile; not logging in again");
            return Ok(());
        }
        *session = None;
        *session = Some(self.login_counted().await?);
        Ok(())
    }

    fn cookies(&self, jar: &Jar) -> Option<HeaderValue> {
        let mut v = jar.cookies(&self.base_url)?;
        v.set_sensitive(true);
        Some(v)
    }

    async fn login_counted(&self) -> Result<Session> {
        let result = self.login().await;
        self.attempts.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// One complete login with a fresh cookie jar.
    async fn login(&self) -> Result<Session> {
        let jar = Arc::new(Jar::default());
        let client = (self.client_builder)()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .map_err(|e| {
                auth_error(
                    "could not build the HTTP client for the Dex login",
                    Some(Box::new(e.without_url())),
                )
            })?;
        let origin = self.base_url.origin();
        let user = &self.login.username;
        let connector = self.login.connector.as_deref().unwrap_or(DEFAULT_CONNECTOR);

        let mut url = self.base_url.clone();
        let mut form: Option<(Posted, String)> = None;
        let mut tried_oauth2_start = false;
        let mut saw_dex = false;
        let mut accepted = false;
        let mut approved = false;

        for hop in 1..=MAX_HOPS {
            let path = url.path().to_owned();
            let (posted, request) = match form.take() {
                Some((what, body)) => (
                    Some(what),
                    client
                        .post(url.clone())
                        .header(
                            http::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded",
                        )
                        .body(body),
                ),
                None => (None, client.get(url.clone())),
            };
            let method = if posted.is_some() { "POST" } else { "GET" };
            let response = request.send().await.map_err(|e| {
                auth_error(
                    format!("the Dex login could not reach the gateway ({method} {path})"),
                    Some(Box::new(e.without_url())),
                )
            })?;
            let status = response.status();
            tracing::debug!(hop, method, path = %path, status = status.as_u16(), "Dex login step");

            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        auth_error(
                            format!(
                                "the gateway answered HTTP {status} without a usable Location at {method} {path} during the Dex login"
                            ),
                            None,
                        )
                    })?;
                let next = url.join(location).map_err(|e| {
                    auth_error(
                        format!(
                            "the gateway redirected to an invalid URL ({}) at {method} {path} during the Dex login",
                            detect::path_of(location)
                        ),
                        Some(Box::new(e)),
                    )
                })?;
                if next.origin() != origin {
                    return Err(auth_error(
                        format!(
                            "the gateway redirected off its own origin (to {}) at {method} {path}; the Dex login only \
                             follows redirects on {} (is the Dex issuer or redirect URL an internal address?)",
                            next.origin().ascii_serialization(),
                            origin.ascii_serialization()
                        ),
                        None,
                    ));
                }
                match posted {
                    Some(Posted::Credentials) => accepted = true,
                    Some(Posted::Approval) => approved = true,
                    None => {}
                }
                if classify(next.path()) != Page::App {
                    saw_dex |= next.path().contains("/dex/");
                }
                url = next;
                continue;
            }

            let page = classify(&path);
            match posted {
                Some(Posted::Credentials)
                    if matches!(
                        status,
                        StatusCode::OK | StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST
                    ) =>
                {
                    return Err(auth_error(
                        format!(
                            "Dex rejected the username or password for {user} (it answered HTTP {status} at {path} \
                             instead of redirecting)"
                        ),
                        None,
                    ));
                }
                Some(Posted::Approval) if status.is_success() => {
                    return Err(auth_error(
                        format!("Dex showed the approval page again after approving ({path})"),
                        None,
                    ));
                }
                _ => {}
            }
            if status.is_server_error() {
                return Err(auth_error(
                    format!(
                        "the gateway answered HTTP {status} at {method} {path} during the Dex login"
                    ),
                    None,
                ));
            }
            match page {
                Page::Chooser if status.is_success() => {
                    saw_dex = true;
                    let with_connector = format!("{}/{connector}", path.trim_end_matches('/'));
                    url.set_path(&with_connector);
                }
                Page::LoginForm if status.is_success() => {
                    saw_dex = true;
                    if accepted {
                        return Err(auth_error(
                            format!(
                                "Dex asked for the password again at {path} after accepting it"
                            ),
                            None,
                        ));
                    }
                    let body = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("login", user)
                        .append_pair("password", self.login.password.expose_secret())
                        .finish();
                    form = Some((Posted::Credentials, body));
                }
                Page::Approval if status.is_success() => {
                    saw_dex = true;
                    if approved {
                        return Err(auth_error(
                            format!("Dex showed the approval page again at {path}"),
                            None,
                        ));
                    }
                    let body = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("approval", "approve")
                        .finish();
                    form = Some((Posted::Approval, body));
                }
                Page::SignIn | Page::App
                    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                        || page == Page::SignIn =>
                {
                    if tried_oauth2_start {
                        let why = if accepted {
                            "after Dex accepted the password; the gateway did not accept the session cookie"
                        } else {
                            "even after /oauth2/start"
                        };
                        return Err(auth_error(
                            format!("the gateway answered HTTP {status} at {method} {path} {why}"),
                            None,
                        ));
                    }
                    tried_oauth2_start = true;
                    url = self.oauth2_start()?;
                }
                Page::App => {
                    return self.finish(jar, saw_dex || accepted, &path, status);
                }
                _ => {
                    let hint = if page == Page::LoginForm {
                        format!(" (is the Dex connector `{connector}` configured?)")
                    } else {
                        String::new()
                    };
                    return Err(auth_error(
                        format!(
                            "the gateway answered HTTP {status} at {method} {path} during the Dex login{hint}"
                        ),
                        None,
                    ));
                }
            }
        }
        Err(auth_error(
            format!(
                "the Dex login did not finish within {MAX_HOPS} requests (it was heading to {}); the gateway \
                 may be redirecting in a loop",
                url.path()
            ),
            None,
        ))
    }

    /// oauth2-proxy's login start, sending us back to the gateway's base path afterwards.
    fn oauth2_start(&self) -> Result<Url> {
        let mut start = self
            .base_url
            .join("/oauth2/start")
            .map_err(|e| auth_error("could not build the /oauth2/start URL", Some(Box::new(e))))?;
        start
            .query_pairs_mut()
            .append_pair("rd", self.base_url.path());
        Ok(start)
    }

    /// The login reached the application: keep the jar.
    fn finish(
        &self,
        jar: Arc<Jar>,
        used_dex: bool,
        path: &str,
        status: StatusCode,
    ) -> Result<Session> {
        let had_cookies = jar.cookies(&self.base_url).is_some();
        if used_dex && !had_cookies {
            return Err(auth_error(
                format!(
                    "the Dex login reached {path} (HTTP {status}) but the gateway set no session cookie for {}",
                    self.base_url.origin().ascii_serialization()
                ),
                None,
            ));
        }
        if used_dex {
            tracing::debug!(path = %path, status = status.as_u16(), "Dex login finished");
        } else {
            tracing::debug!(path = %path, status = status.as_u16(), "the gateway did not ask for a login");
        }
        Ok(Session { jar, had_cookies })
    }
}
