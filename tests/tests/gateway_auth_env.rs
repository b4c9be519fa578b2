//! Tests of the test environment itself: the real Dex + oauth2-proxy "Kubeflow gateway"
//! started by `testenv/auth/start.sh` (see `testenv/auth/README.md`).
//!
//! They check that the environment behaves like a Kubeflow ≥ 1.9 gateway, with plain
//! `reqwest` (redirects disabled, one cookie jar) walking the browser flow by hand:
//! `/oauth2/start?rd=…` → `/dex/auth?…` → Dex's local login form → POST → `/dex/approval`
//! → `/oauth2/callback?code&state` → session cookie `oauth2_proxy_kubeflow` → `rd`.
//! The SDK's own Dex client is tested elsewhere against the same environment.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use kubeflow_test_support::gateway::{GatewayEnv, KUBEFLOW_CLIENT_ID, SESSION_COOKIE};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::redirect::Policy;
use reqwest::{Client, Method, StatusCode, header};
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

/// At most this many requests in one login walk (the real flow needs 6).
const MAX_HOPS: usize = 12;

fn client(jar: Arc<Jar>) -> Result<Client> {
    Client::builder()
        .redirect(Policy::none())
        .cookie_provider(jar)
        .timeout(Duration::from_secs(20))
        .build()
        .context("building the HTTP client")
}

/// One request of a walk and the answer's status and `Location`.
#[derive(Debug)]
struct Hop {
    method: Method,
    url: Url,
    status: StatusCode,
    location: Option<String>,
    set_cookie_names: Vec<String>,
}

impl Hop {
    /// `GET /path?k1&k2 -> 302 /other?k3`: query values (codes, states, challenges) left out.
    fn summary(&self) -> String {
        let location = self
            .location
            .as_deref()
            .map(redact_query)
            .unwrap_or_default();
        let path = redact_query(&self.url[url::Position::BeforePath..]);
        format!(
            "{} {path} -> {} {location}",
            self.method,
            self.status.as_u16()
        )
    }
}

fn redact_query(target: &str) -> String {
    match target.split_once('?') {
        None => target.to_owned(),
        Some((path, query)) => {
            let keys: Vec<&str> = query
                .split('&')
                .map(|pair| pair.split('=').next().unwrap_or_default())
                .collect();
            format!("{path}?{}", keys.join("&"))
        }
    }
}

/// Where a login walk stopped.
#[derive(Debug)]
struct Walk {
    hops: Vec<Hop>,
    /// Whether the Dex login form was posted.
    posted: bool,
    final_url: Url,
    final_status: StatusCode,
    final_headers: header::HeaderMap,
    final_body: String,
}

impl Walk {
    fn chain(&self) -> String {
        self.hops
            .iter()
            .map(Hop::summary)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

async fn send(
    client: &Client,
    hops: &mut Vec<Hop>,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response> {
    let request = request.build().context("building a request")?;
    let (method, url) = (request.method().clone(), request.url().clone());
    let response = client
        .execute(request)
        .await
        .with_context(|| format!("{method} {url}"))?;
    let location = match response.headers().get(header::LOCATION) {
        Some(v) => Some(
            v.to_str()
                .with_context(|| format!("non-ASCII Location from {url}"))?
                .to_owned(),
        ),
        None => None,
    };
    let set_cookie_names = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split('=').next())
        .map(str::to_owned)
        .collect();
    hops.push(Hop {
        method,
        url,
        status: response.status(),
        location,
        set_cookie_names,
    });
    Ok(response)
}

/// The `action` of the first `<form>` in Dex's login page, resolved against `page`.
fn form_action(page: &Url, html: &str) -> Result<Url> {
    let form = html
        .find("<form")
        .context("no <form> in the Dex login page")?;
    let rest = &html[form..];
    let tag = &rest[..rest.find('>').context("unterminated <form> tag")?];
    let action = match tag.split_once("action=\"") {
        Some((_, tail)) => tail.split('"').next().unwrap_or_default(),
        None => "",
    };
    let action = action.replace("&amp;", "&");
    page.join(&action)
        .with_context(|| format!("bad form action {action:?}"))
}

/// Walks the browser login flow from `/oauth2/start?rd=<rd>`: follows redirects by hand and
/// posts `password` once to the Dex login form. Stops at the first non-redirect answer that
/// is not the (not yet posted) login form.
async fn walk_login(env: &GatewayEnv, client: &Client, rd: &str, password: &str) -> Result<Walk> {
    let mut hops = Vec::new();
    let mut url = env.gateway("/oauth2/start");
    url.query_pairs_mut().append_pair("rd", rd);
    let mut response = send(client, &mut hops, client.get(url.clone())).await?;
    let mut posted = false;
    while hops.len() < MAX_HOPS {
        let status = response.status();
        if status.is_redirection() {
            let location = hops
                .last()
                .and_then(|h| h.location.clone())
                .ok_or_else(|| anyhow!("{status} without Location from {url}"))?;
            url = url
                .join(&location)
                .with_context(|| format!("bad Location {location:?}"))?;
            response = send(client, &mut hops, client.get(url.clone())).await?;
            continue;
        }
        let final_headers = response.headers().clone();
        let body = response
            .text()
            .await
            .with_context(|| format!("reading {url}"))?;
        let is_login_form = status == StatusCode::OK && body.contains("name=\"password\"");
        if is_login_form && !posted {
            let action = form_action(&url, &body)?;
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("login", &env.username)
                .append_pair("password", password)
                .finish();
            let post = client
                .post(action.clone())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form);
            response = send(client, &mut hops, post).await?;
            url = action;
            posted = true;
            continue;
        }
        return Ok(Walk {
            hops,
            posted,
            final_url: url,
            final_status: status,
            final_headers,
            final_body: body,
        });
    }
    bail!(
        "login walk did not end within {MAX_HOPS} requests:\n{}",
        hops.iter().map(Hop::summary).collect::<Vec<_>>().join("\n")
    )
}

fn query_value(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn json(body: &str) -> Result<Value> {
    serde_json::from_str(body).with_context(|| format!("expected a JSON body, got: {body:.200}"))
}

fn has_session_cookie(jar: &Jar, env: &GatewayEnv) -> bool {
    jar.cookies(&env.gateway_url)
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .is_some_and(|cookies| {
            cookies.split(';').map(str::trim).any(|c| {
                c.starts_with(&format!("{SESSION_COOKIE}="))
                    || c.starts_with(&format!("{SESSION_COOKIE}_0="))
            })
        })
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn unauthenticated_page_gets_the_sign_in_page() -> Result<()> {
    let env = GatewayEnv::from_env();
    let client = client(Arc::new(Jar::default()))?;
    let response = client.get(env.gateway("/")).send().await?;
    ensure!(
        response.status() == StatusCode::FORBIDDEN,
        "GET / answered {}",
        response.status()
    );
    ensure!(
        response.headers().get(header::LOCATION).is_none(),
        "the sign-in page must not redirect"
    );
    let body = response.text().await?;
    ensure!(
        body.contains("Sign in with Dex"),
        "not oauth2-proxy's sign-in page: {body:.300}"
    );
    ensure!(
        body.contains("/oauth2/start"),
        "the sign-in page must link to /oauth2/start: {body:.300}"
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn unauthenticated_api_routes_get_401() -> Result<()> {
    let env = GatewayEnv::from_env();
    let client = client(Arc::new(Jar::default()))?;
    for path in [
        "/apis/v2beta1/runs",
        "/pipeline/apis/v2beta1/pipelines",
        "/jupyter/api/namespaces/x/notebooks",
    ] {
        let response = client
            .get(env.gateway(path))
            .header(header::ACCEPT, "application/json")
            .send()
            .await?;
        ensure!(
            response.status() == StatusCode::UNAUTHORIZED,
            "GET {path} answered {}",
            response.status()
        );
        ensure!(
            response.headers().get(header::LOCATION).is_none(),
            "GET {path} must not redirect"
        );
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn dex_is_reachable_through_the_gateway_without_login() -> Result<()> {
    let env = GatewayEnv::from_env();
    let client = client(Arc::new(Jar::default()))?;
    let url = env.gateway("/dex/.well-known/openid-configuration");
    let response = client.get(url.clone()).send().await?;
    ensure!(
        response.status() == StatusCode::OK,
        "GET {url} answered {}",
        response.status()
    );
    let discovery = json(&response.text().await?)?;
    let issuer = env.dex_url.as_str().trim_end_matches('/');
    ensure!(
        discovery["issuer"] == issuer,
        "issuer {} instead of {issuer}",
        discovery["issuer"]
    );
    let methods = &discovery["code_challenge_methods_supported"];
    ensure!(
        methods
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x == "S256")),
        "Dex does not announce PKCE S256: {methods}"
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn start_redirects_to_relative_dex_auth_with_pkce() -> Result<()> {
    let env = GatewayEnv::from_env();
    let client = client(Arc::new(Jar::default()))?;
    let response = client
        .get(env.gateway("/oauth2/start?rd=%2F"))
        .send()
        .await?;
    ensure!(
        response.status() == StatusCode::FOUND,
        "/oauth2/start answered {}",
        response.status()
    );
    let location = response
        .headers()
        .get(header::LOCATION)
        .context("no Location")?
        .to_str()?
        .to_owned();
    ensure!(
        location.starts_with("/dex/auth?"),
        "expected a relative /dex/auth?… redirect, got {location}"
    );
    let csrf: Vec<String> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split('=').next())
        .filter(|name| name.starts_with(SESSION_COOKIE) && name.ends_with("_csrf"))
        .map(str::to_owned)
        .collect();
    ensure!(
        !csrf.is_empty(),
        "no {SESSION_COOKIE}…_csrf cookie set by /oauth2/start"
    );

    let auth = env.gateway_url.join(&location)?;
    let q = |key: &str| query_value(&auth, key).unwrap_or_default();
    ensure!(
        q("client_id") == KUBEFLOW_CLIENT_ID,
        "client_id {:?}",
        q("client_id")
    );
    ensure!(
        q("redirect_uri") == "/oauth2/callback",
        "redirect_uri {:?}",
        q("redirect_uri")
    );
    ensure!(
        q("response_type") == "code",
        "response_type {:?}",
        q("response_type")
    );
    let scopes: Vec<String> = q("scope").split(' ').map(str::to_owned).collect();
    for scope in ["openid", "email", "profile", "groups"] {
        ensure!(
            scopes.iter().any(|s| s == scope),
            "scope {scopes:?} lacks {scope}"
        );
    }
    ensure!(
        q("code_challenge_method") == "S256",
        "code_challenge_method {:?}",
        q("code_challenge_method")
    );
    // base64url (no padding) of a SHA-256 digest.
    let challenge = q("code_challenge");
    ensure!(
        challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "code_challenge {challenge:?} is not an S256 challenge"
    );
    ensure!(!q("state").is_empty(), "no state");
    ensure!(
        q("prompt") == "none",
        "prompt {:?} (Kubeflow sets prompt=none)",
        q("prompt")
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn password_login_yields_the_session_cookie_and_the_id_token_upstream() -> Result<()> {
    let env = GatewayEnv::from_env();
    let jar = Arc::new(Jar::default());
    let client = client(jar.clone())?;
    let rd = "/whoami?from=test";
    let walk = walk_login(&env, &client, rd, env.password.expose_secret()).await?;
    eprintln!("redirect chain:\n{}", walk.chain());
    let chain = walk.chain();

    ensure!(walk.posted, "the Dex login form was never shown:\n{chain}");
    let first = walk.hops.first().context("no request")?;
    ensure!(
        first.status == StatusCode::FOUND
            && first
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("/dex/auth?")),
        "/oauth2/start did not redirect to /dex/auth:\n{chain}"
    );
    // The browser-visible chain stays on the gateway: every Location is a relative path.
    for hop in &walk.hops {
        if let Some(location) = &hop.location {
            ensure!(
                location.starts_with('/'),
                "non-relative Location {location} in:\n{chain}"
            );
        }
    }
    let post = walk
        .hops
        .iter()
        .position(|h| h.method == Method::POST)
        .context("no POST")?;
    let after_post = &walk.hops[post];
    ensure!(
        after_post.status == StatusCode::SEE_OTHER,
        "the login POST answered {} (wrong credentials?):\n{chain}",
        after_post.status
    );
    let callback = walk
        .hops
        .iter()
        .position(|h| h.url.path() == "/oauth2/callback")
        .context(format!("never reached /oauth2/callback:\n{chain}"))?;
    let callback_hop = &walk.hops[callback];
    ensure!(
        query_value(&callback_hop.url, "code").is_some_and(|c| !c.is_empty()),
        "callback without code"
    );
    ensure!(
        query_value(&callback_hop.url, "state").is_some_and(|s| !s.is_empty()),
        "callback without state"
    );
    ensure!(
        callback_hop.status == StatusCode::FOUND && callback_hop.location.as_deref() == Some(rd),
        "the callback did not redirect to rd={rd}:\n{chain}"
    );
    ensure!(
        callback_hop
            .set_cookie_names
            .iter()
            .any(|n| n == SESSION_COOKIE || n == &format!("{SESSION_COOKIE}_0")),
        "the callback set no {SESSION_COOKIE} cookie (set: {:?})",
        callback_hop.set_cookie_names
    );
    ensure!(
        has_session_cookie(&jar, &env),
        "no {SESSION_COOKIE} cookie in the jar"
    );

    // The walk ended on `rd`, served by the echo upstream with the user's identity.
    ensure!(
        walk.final_status == StatusCode::OK,
        "GET {rd} after login answered {}",
        walk.final_status
    );
    ensure!(
        walk.final_url.path() == "/whoami",
        "walk ended at {}",
        walk.final_url
    );
    let echo = json(&walk.final_body)?;
    check_echo(&echo, &env, "/whoami")?;
    ensure!(
        echo["cookie_names"]
            .as_array()
            .is_some_and(|names| names.iter().any(|n| n == SESSION_COOKIE)),
        "upstream did not get the session cookie: {echo}"
    );

    // API routes work with the cookie too.
    let response = client.get(env.gateway("/apis/v2beta1/runs")).send().await?;
    ensure!(
        response.status() == StatusCode::OK,
        "GET /apis/v2beta1/runs with the cookie: {}",
        response.status()
    );
    let echo = json(&response.text().await?)?;
    check_echo(&echo, &env, "/apis/v2beta1/runs")?;

    // Like Istio's ext-authz response headers, the gateway answers with the id_token
    // (set_authorization_header) and the X-Auth-Request-* headers.
    let bearer = walk
        .final_headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .context("no Authorization: Bearer response header after login")?
        .to_owned();
    let email = walk
        .final_headers
        .get("x-auth-request-email")
        .and_then(|v| v.to_str().ok());
    ensure!(
        email == Some(env.username.as_str()),
        "X-Auth-Request-Email {email:?}"
    );

    // The Dex id_token is accepted as a bearer token without any cookie (Kubeflow's
    // dex-jwt RequestAuthentication / oauth2-proxy --skip-jwt-bearer-tokens).
    let fresh = self::client(Arc::new(Jar::default()))?;
    let response = fresh
        .get(env.gateway("/apis/v2beta1/runs"))
        .bearer_auth(&bearer)
        .send()
        .await?;
    ensure!(
        response.status() == StatusCode::OK,
        "GET with the id_token as bearer: {}",
        response.status()
    );
    check_echo(&json(&response.text().await?)?, &env, "/apis/v2beta1/runs")?;

    // A token Dex did not sign is rejected.
    let forged = forge(&bearer)?;
    let response = fresh
        .get(env.gateway("/apis/v2beta1/runs"))
        .bearer_auth(forged)
        .send()
        .await?;
    ensure!(
        response.status() == StatusCode::UNAUTHORIZED,
        "GET with a forged bearer: {}",
        response.status()
    );
    Ok(())
}

/// The echo upstream saw `path`, a Bearer JWT from Dex for the Kubeflow client, and the email.
fn check_echo(echo: &Value, env: &GatewayEnv, path: &str) -> Result<()> {
    ensure!(
        echo["path"] == path,
        "upstream saw path {} instead of {path}",
        echo["path"]
    );
    let auth = &echo["authorization"];
    ensure!(
        auth["scheme"] == "Bearer",
        "upstream got no Bearer Authorization: {echo}"
    );
    let claims = &auth["jwt_claims"];
    ensure!(
        claims["email"] == env.username.as_str(),
        "id_token email: {claims}"
    );
    ensure!(
        claims["iss"] == env.dex_url.as_str().trim_end_matches('/'),
        "id_token issuer: {claims}"
    );
    ensure!(
        claims["aud"] == KUBEFLOW_CLIENT_ID,
        "id_token audience: {claims}"
    );
    ensure!(
        echo["x_forwarded_email"] == env.username.as_str(),
        "X-Forwarded-Email: {echo}"
    );
    Ok(())
}

/// `token` (a JWT) with a broken signature.
fn forge(token: &str) -> Result<String> {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    ensure!(parts.len() == 3, "the id_token is not a JWT");
    // Changing the first character of the signature breaks it (the last one may only
    // carry padding bits).
    let signature = &parts[2];
    let first = signature.chars().next().context("empty signature")?;
    parts[2] = format!(
        "{}{}",
        if first == 'A' { 'B' } else { 'A' },
        &signature[1..]
    );
    Ok(parts.join("."))
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn wrong_password_rerenders_the_dex_form() -> Result<()> {
    let env = GatewayEnv::from_env();
    let jar = Arc::new(Jar::default());
    let client = client(jar.clone())?;
    let walk = walk_login(&env, &client, "/", "not-the-password").await?;
    let chain = walk.chain();
    ensure!(walk.posted, "the Dex login form was never shown:\n{chain}");
    let post = walk.hops.last().context("no request")?;
    ensure!(
        post.method == Method::POST,
        "the walk went on after the POST:\n{chain}"
    );
    // Dex >= 2.36 (dexidp/dex#2796) re-renders the form with 401; older Dex used 200. Either
    // way: no redirect.
    ensure!(
        post.status == StatusCode::UNAUTHORIZED && post.location.is_none(),
        "wrong password must re-render the form with 401 and no redirect:\n{chain}"
    );
    ensure!(
        walk.final_url.path().starts_with("/dex/auth/"),
        "form re-rendered at {}",
        walk.final_url
    );
    ensure!(
        walk.final_body.contains("name=\"password\""),
        "no login form after a wrong password"
    );
    ensure!(
        walk.final_body.contains("Invalid"),
        "Dex did not say the credentials were invalid"
    );
    ensure!(
        !has_session_cookie(&jar, &env),
        "a session cookie was set after a wrong password"
    );
    Ok(())
}
