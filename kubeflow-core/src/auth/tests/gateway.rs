//! A fake Kubeflow gateway (wiremock): oauth2-proxy or oidc-authservice in front, Dex behind,
//! with the redirects, pages and cookies of the real ones (research §5.3).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use wiremock::matchers::{any, body_string, header, method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

pub(super) const USER: &str = "user@example.com";
/// Distinctive, so a leak is easy to spot in logs and errors.
pub(super) const PASSWORD: &str = "pw-Zq8!unique-PASSWORD";
pub(super) const STATE: &str = "state-XYZ";
pub(super) const REQ: &str = "req-123";
pub(super) const CODE: &str = "code-456";
pub(super) const CSRF: &str = "csrf-COOKIEVALUE-789";
/// Every session cookie value contains this.
pub(super) const SESSION_MARK: &str = "SESSIONSECRET";

/// What authenticates at the gateway.
#[derive(Clone, Copy, Debug)]
pub(super) enum Proxy {
    /// Kubeflow ≥ 1.9: `oauth2_proxy_kubeflow`, optionally split into `_0` and `_1`.
    OAuth2Proxy { split: bool },
    /// Kubeflow ≤ 1.8: `authservice_session`; `legacy` is the 1.3–1.6 build (callback
    /// `/login/oidc`, no state cookie).
    AuthService { legacy: bool },
}

/// Which Dex login URLs.
#[derive(Clone, Copy, Debug)]
pub(super) enum DexUi {
    /// `/dex/auth/<c>/login?back=&state=…`
    Current,
    /// `/dex/auth/<c>?req=…`
    Old,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Setup {
    pub proxy: Proxy,
    pub dex: DexUi,
    pub approval: bool,
    pub chooser: bool,
    pub connector: &'static str,
    /// False: the gateway never accepts the session it issued (a broken cookie secret).
    pub accept_sessions: bool,
}

impl Setup {
    pub(super) fn new(proxy: Proxy, dex: DexUi) -> Self {
        Setup {
            proxy,
            dex,
            approval: false,
            chooser: false,
            connector: "local",
            accept_sessions: true,
        }
    }
}

pub(super) struct Gateway {
    pub server: MockServer,
    /// Completed callbacks (sessions issued).
    pub logins: Arc<AtomicUsize>,
    /// The cookie pairs of the one session the app accepts now.
    pub valid: Arc<Mutex<Vec<String>>>,
}

/// The request carries all of these cookie pairs (and there is at least one).
struct HasCookies(Arc<Mutex<Vec<String>>>);

impl Match for HasCookies {
    fn matches(&self, request: &Request) -> bool {
        let wanted = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let sent: Vec<String> = request
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';').map(|p| p.trim().to_owned()))
            .collect();
        !wanted.is_empty() && wanted.iter().all(|w| sent.contains(w))
    }
}

/// The request carries the CSRF cookie set by `/oauth2/start` (or authservice's state cookie).
struct HasCsrf(&'static str);

impl Match for HasCsrf {
    fn matches(&self, request: &Request) -> bool {
        let pair = format!("{}={CSRF}", self.0);
        request
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(';').any(|p| p.trim() == pair))
    }
}

/// The callback: issues session number n and makes it the only valid one.
struct Callback {
    proxy: Proxy,
    logins: Arc<AtomicUsize>,
    valid: Arc<Mutex<Vec<String>>>,
    app_url: String,
}

impl Respond for Callback {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let n = self.logins.fetch_add(1, Ordering::SeqCst) + 1;
        let pairs: Vec<String> = match self.proxy {
            Proxy::OAuth2Proxy { split: false } => {
                vec![format!("oauth2_proxy_kubeflow={SESSION_MARK}-{n}")]
            }
            Proxy::OAuth2Proxy { split: true } => vec![
                format!("oauth2_proxy_kubeflow_0={SESSION_MARK}-{n}-part0"),
                format!("oauth2_proxy_kubeflow_1={SESSION_MARK}-{n}-part1"),
            ],
            Proxy::AuthService { .. } => vec![format!("authservice_session={SESSION_MARK}-{n}")],
        };
        *self.valid.lock().unwrap_or_else(PoisonError::into_inner) = pairs.clone();
        let mut t = ResponseTemplate::new(302).insert_header("location", self.app_url.as_str());
        for p in &pairs {
            t = t.append_header(
                "set-cookie",
                format!("{p}; Path=/; HttpOnly; SameSite=Lax").as_str(),
            );
        }
        match self.proxy {
            Proxy::OAuth2Proxy { .. } => {
                t = t.append_header(
                    "set-cookie",
                    "oauth2_proxy_kubeflow_csrf=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                )
            }
            Proxy::AuthService { legacy: false } => {
                t = t.append_header("set-cookie", "oidc_state_csrf=; Path=/; Max-Age=0")
            }
            Proxy::AuthService { legacy: true } => {}
        }
        t
    }
}

fn html(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "text/html; charset=utf-8")
}

fn redirect(status: u16, to: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", to)
}

const LOGIN_FORM: &str = r#"<html><head><title>dex</title></head><body>
<form method="post"><input name="login"/><input type="password" name="password"/><button>Login</button></form></body></html>"#;
const LOGIN_FORM_INVALID: &str = r#"<html><head><title>dex</title></head><body>
<div id="login-error" class="dex-error-box">Invalid Email Address and password.</div>
<form method="post"><input name="login"/><input type="password" name="password"/></form></body></html>"#;

impl Gateway {
    pub(super) async fn start(setup: Setup) -> Gateway {
        let server = MockServer::start().await;
        let uri = server.uri();
        let logins = Arc::new(AtomicUsize::new(0));
        let valid = Arc::new(Mutex::new(Vec::new()));
        let c = setup.connector;

        // Anything unexpected fails loudly (the login turns a 5xx into an error naming the path).
        Mock::given(any())
            .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
            .with_priority(255)
            .mount(&server)
            .await;

        // The application, for a valid session.
        if setup.accept_sessions {
            Mock::given(method("GET"))
                .and(path("/"))
                .and(HasCookies(valid.clone()))
                .respond_with(
                    ResponseTemplate::new(200).set_body_string("<html>central dashboard</html>"),
                )
                .with_priority(1)
                .mount(&server)
                .await;
        }

        let (callback_path, csrf_cookie) = match setup.proxy {
            Proxy::OAuth2Proxy { .. } => ("/oauth2/callback", Some("oauth2_proxy_kubeflow_csrf")),
            Proxy::AuthService { legacy: false } => {
                ("/authservice/oidc/callback", Some("oidc_state_csrf"))
            }
            Proxy::AuthService { legacy: true } => ("/login/oidc", None),
        };
        let dex_auth = format!(
            "/dex/auth?client_id=kubeflow-oidc-authservice&redirect_uri={}&response_type=code&scope=profile+email+groups+openid&state={STATE}",
            url::form_urlencoded::byte_serialize(callback_path.as_bytes()).collect::<String>()
        );

        // The gateway without a session.
        match setup.proxy {
            Proxy::OAuth2Proxy { .. } => {
                Mock::given(method("GET"))
                    .and(path("/"))
                    .respond_with(html(403, "<html><title>Sign In</title><a href=\"/oauth2/start?rd=/\">Sign in with Dex</a></html>"))
                    .with_priority(2)
                    .mount(&server)
                    .await;
                Mock::given(method("GET"))
                    .and(path("/oauth2/start"))
                    .and(query_param("rd", "/"))
                    .respond_with(
                        redirect(302, &dex_auth).append_header(
                            "set-cookie",
                            format!(
                                "oauth2_proxy_kubeflow_csrf={CSRF}; Path=/; Max-Age=900; HttpOnly"
                            )
                            .as_str(),
                        ),
                    )
                    .mount(&server)
                    .await;
            }
            Proxy::AuthService { legacy } => {
                // An absolute URL on the gateway's own origin.
                let mut t = redirect(302, &format!("{uri}{dex_auth}"));
                if !legacy {
                    t = t.append_header(
                        "set-cookie",
                        format!("oidc_state_csrf={CSRF}; Path=/; HttpOnly").as_str(),
                    );
                }
                Mock::given(method("GET"))
                    .and(path("/"))
                    .respond_with(t)
                    .with_priority(2)
                    .mount(&server)
                    .await;
            }
        }

        // Dex: /auth, the chooser or a redirect to the only connector.
        let connector_entry =
            format!("/dex/auth/{c}?client_id=kubeflow-oidc-authservice&state={STATE}");
        Mock::given(method("GET"))
            .and(path("/dex/auth"))
            .and(query_param("state", STATE))
            .respond_with(if setup.chooser {
                html(
                    200,
                    "<html><title>Log in to dex</title><a href=\"/dex/auth/local?...\">Log in with Email</a><a href=\"/dex/auth/ldap?...\">Log in with LDAP</a></html>",
                )
            } else {
                redirect(302, &connector_entry)
            })
            .mount(&server)
            .await;

        // Dex: the connector and its password form.
        let form_path = match setup.dex {
            DexUi::Current => {
                Mock::given(method("GET"))
                    .and(path(format!("/dex/auth/{c}")))
                    .and(query_param("state", STATE))
                    .respond_with(redirect(
                        302,
                        &format!("/dex/auth/{c}/login?back=&state={REQ}"),
                    ))
                    .mount(&server)
                    .await;
                format!("/dex/auth/{c}/login")
            }
            DexUi::Old => {
                Mock::given(method("GET"))
                    .and(path(format!("/dex/auth/{c}")))
                    .and(query_param("state", STATE))
                    .respond_with(redirect(302, &format!("/dex/auth/{c}?req={REQ}")))
                    .mount(&server)
                    .await;
                format!("/dex/auth/{c}")
            }
        };
        let (form_key, form_val) = match setup.dex {
            DexUi::Current => ("state", REQ),
            DexUi::Old => ("req", REQ),
        };
        Mock::given(method("GET"))
            .and(path(form_path.as_str()))
            .and(query_param(form_key, form_val))
            .respond_with(html(200, LOGIN_FORM))
            .mount(&server)
            .await;
        let good_body = format!(
            "login={}&password={}",
            url::form_urlencoded::byte_serialize(USER.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect::<String>()
        );
        Mock::given(method("POST"))
            .and(path(form_path.as_str()))
            .and(query_param(form_key, form_val))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string(good_body))
            .respond_with(redirect(303, &format!("/dex/approval?req={REQ}&hmac=abc")))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(form_path.as_str()))
            .and(query_param(form_key, form_val))
            .respond_with(html(200, LOGIN_FORM_INVALID))
            .with_priority(2)
            .mount(&server)
            .await;

        // Dex: approval (shown, or skipped with `skipApprovalScreen: true`).
        let callback = format!("{callback_path}?code={CODE}&state={STATE}");
        Mock::given(method("GET"))
            .and(path("/dex/approval"))
            .and(query_param("req", REQ))
            .respond_with(if setup.approval {
                html(
                    200,
                    "<html><form method=\"post\"><input type=\"hidden\" name=\"approval\" value=\"approve\"><button>Grant Access</button></form></html>",
                )
            } else {
                redirect(303, &callback)
            })
            .mount(&server)
            .await;
        if setup.approval {
            Mock::given(method("POST"))
                .and(path("/dex/approval"))
                .and(query_param("req", REQ))
                .and(body_string("approval=approve"))
                .respond_with(redirect(303, &callback))
                .mount(&server)
                .await;
        }

        // The callback sets the session.
        let responder = Callback {
            proxy: setup.proxy,
            logins: logins.clone(),
            valid: valid.clone(),
            app_url: match setup.proxy {
                Proxy::OAuth2Proxy { .. } => "/".to_owned(),
                Proxy::AuthService { .. } => format!("{uri}/"),
            },
        };
        let cb = Mock::given(method("GET"))
            .and(path(callback_path))
            .and(query_param("code", CODE))
            .and(query_param("state", STATE));
        match csrf_cookie {
            Some(name) => {
                cb.and(HasCsrf(name))
                    .respond_with(responder)
                    .mount(&server)
                    .await
            }
            None => cb.respond_with(responder).mount(&server).await,
        }

        Gateway {
            server,
            logins,
            valid,
        }
    }

    pub(super) fn uri(&self) -> String {
        self.server.uri()
    }

    pub(super) fn logins(&self) -> usize {
        self.logins.load(Ordering::SeqCst)
    }

    /// The cookie pairs of the valid session.
    pub(super) fn session(&self) -> Vec<String> {
        self.valid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The gateway forgets every session (as when the 24 h cookie expires server-side).
    pub(super) fn expire_sessions(&self) {
        self.valid
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
