//! kubeflow-core's credentials against the real Dex + oauth2-proxy gateway of the test
//! environment (`testenv/auth`): the SDK logs in by itself, reaches the application behind
//! the gateway, and reports wrong passwords and missing logins clearly.

use kubeflow_core::{Credentials, Endpoint, Error, KubeflowClient, KubeflowConfig};
use kubeflow_test_support::gateway::GatewayEnv;
use secrecy::ExposeSecret;
use serde_json::Value;

fn client(env: &GatewayEnv, credentials: Credentials) -> KubeflowClient {
    let config =
        KubeflowConfig::new(Endpoint::gateway(env.gateway_url.as_str()).expect("gateway URL"))
            .credentials(credentials);
    KubeflowClient::new(config).expect("client")
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn dex_login_reaches_the_upstream_as_the_user() {
    let env = GatewayEnv::from_env();
    let kf = client(
        &env,
        Credentials::dex(&env.username, env.password.expose_secret()),
    );
    kf.authenticate()
        .await
        .expect("login through oauth2-proxy and Dex");
    let http = kf.service("pipeline").expect("service");
    for path in ["apis/v2beta1/runs", "apis/v2beta1/healthz"] {
        let seen: Value = http
            .get(path)
            .send_json()
            .await
            .expect("the upstream answers");
        assert_eq!(seen["path"], format!("/pipeline/{path}"));
        assert_eq!(seen["x_forwarded_email"], env.username.as_str(), "{seen}");
        assert_eq!(seen["authorization"]["scheme"], "Bearer", "{seen}");
        assert_eq!(
            seen["authorization"]["jwt_claims"]["email"],
            env.username.as_str(),
            "{seen}"
        );
        let cookies: Vec<&str> = seen["cookie_names"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with("oauth2_proxy_kubeflow")),
            "{seen}"
        );
    }
    // Without an explicit authenticate(), the first request logs in on demand.
    let kf = client(
        &env,
        Credentials::dex(&env.username, env.password.expose_secret()),
    );
    let seen: Value = kf
        .service("")
        .expect("svc")
        .post("jupyter/api/namespaces/x/notebooks")
        .json(&serde_json::json!({"name": "nb"}))
        .send_json()
        .await
        .expect("POST after an on-demand login");
    assert_eq!(seen["method"], "POST");
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn wrong_password_is_a_clear_auth_error() {
    let env = GatewayEnv::from_env();
    let kf = client(&env, Credentials::dex(&env.username, "not-the-password-42"));
    let err = kf.authenticate().await.expect_err("Dex refuses");
    let text = err.to_string();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(text.contains(&env.username), "{text}");
    assert!(!text.contains("not-the-password-42"), "{text}");
    // The same through a request.
    let err = kf
        .service("")
        .expect("svc")
        .get("apis/v2beta1/runs")
        .send()
        .await
        .expect_err("no session");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn no_or_bad_session_is_not_authenticated() {
    let env = GatewayEnv::from_env();
    for creds in [
        Credentials::None,
        Credentials::cookie("oauth2_proxy_kubeflow=forged-session-value"),
    ] {
        let kf = client(&env, creds);
        let http = kf.service("").expect("svc");
        // oauth2-proxy: 401 on API routes, 403 with the sign-in page elsewhere.
        for path in ["apis/v2beta1/runs", ""] {
            let err = http.get(path).send().await.expect_err("login wanted");
            assert!(
                matches!(err, Error::NotAuthenticated { .. }),
                "{path}: {err:?}"
            );
            assert!(!err.to_string().contains("forged-session-value"));
        }
    }
}
