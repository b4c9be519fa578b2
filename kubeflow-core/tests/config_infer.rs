//! `KubeflowConfig::infer()`: precedence of explicit settings, environment, kfp context,
//! in-cluster and kubeconfig, and the errors when nothing works.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use kubeflow_core::config::ConfigLoader;
use kubeflow_core::{Credentials, Endpoint, Error};

fn loader(vars: &[(&str, &str)], home: &Path) -> ConfigLoader {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ConfigLoader::new()
        .env_lookup(move |k| map.get(k).cloned())
        .home_dir(home)
        .in_cluster_dir(home.join("no-such-dir"))
}

const KUBECONFIG: &str = r#"apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: kube-token
contexts:
- name: ctx
  context:
    cluster: c
    user: u
    namespace: team-from-kubeconfig
current-context: ctx
"#;

#[tokio::test]
async fn nothing_configured_lists_every_source() {
    let home = tempfile::tempdir().expect("tmp");
    let err = loader(&[], home.path()).load().await.expect_err("nothing");
    let Error::InferConfig(e) = &err else {
        panic!("expected InferConfig, got {err:?}")
    };
    let sources: Vec<&str> = e.attempts.iter().map(|a| a.source.as_str()).collect();
    assert_eq!(sources, ["environment", "in-cluster", "kubeconfig"]);
    let text = err.to_string();
    assert!(text.contains("KUBEFLOW_ENDPOINT"), "{text}");
    assert!(
        text.contains("KUBERNETES_SERVICE_HOST is not set"),
        "{text}"
    );
    assert!(text.contains(".kube/config does not exist"), "{text}");
}

#[tokio::test]
async fn environment_endpoint_and_credentials() {
    let home = tempfile::tempdir().expect("tmp");
    let c = loader(
        &[
            ("KUBEFLOW_ENDPOINT", "http://localhost:8080"),
            ("KUBEFLOW_NAMESPACE", "kubeflow-user-example-com"),
            ("KUBEFLOW_USERNAME", "user@example.com"),
            ("KUBEFLOW_PASSWORD", "12341234"),
            ("KUBEFLOW_TIMEOUT", "90"),
            ("KUBEFLOW_CONNECT_TIMEOUT", "2.5"),
            ("KUBEFLOW_MAX_ATTEMPTS", "1"),
            ("KUBEFLOW_HEADERS", "X-A: 1;;X-B: two"),
        ],
        home.path(),
    )
    .load()
    .await
    .expect("config");
    assert_eq!(
        c.endpoint,
        Endpoint::gateway("http://localhost:8080").expect("url")
    );
    assert_eq!(c.namespace.as_deref(), Some("kubeflow-user-example-com"));
    assert!(matches!(&c.credentials, Credentials::Dex(d) if d.username == "user@example.com"));
    assert_eq!(c.timeouts.operation, Duration::from_secs(90));
    assert_eq!(c.timeouts.connect, Duration::from_millis(2500));
    assert_eq!(c.retry.max_attempts, 1);
    assert_eq!(c.headers.get("X-B").map(String::as_str), Some("two"));
    assert!(c.source.contains("KUBEFLOW_ENDPOINT"));
    // The password is not in the Debug output.
    assert!(!format!("{c:?}").contains("12341234"));
}

#[tokio::test]
async fn explicit_settings_win_over_the_environment() {
    let home = tempfile::tempdir().expect("tmp");
    let c = loader(
        &[
            ("KUBEFLOW_ENDPOINT", "http://env:8080"),
            ("KUBEFLOW_TOKEN", "t"),
            ("KUBEFLOW_NAMESPACE", "env-ns"),
        ],
        home.path(),
    )
    .endpoint(Endpoint::direct("http://explicit:8888").expect("url"))
    .credentials(Credentials::cookie("oauth2_proxy_kubeflow=abc"))
    .namespace("explicit-ns")
    .load()
    .await
    .expect("config");
    assert_eq!(
        c.endpoint,
        Endpoint::direct("http://explicit:8888").expect("url")
    );
    assert!(matches!(c.credentials, Credentials::Cookie(_)));
    assert_eq!(c.namespace.as_deref(), Some("explicit-ns"));
    assert_eq!(c.source, "explicit");
}

#[tokio::test]
async fn credential_precedence_in_the_environment() {
    let home = tempfile::tempdir().expect("tmp");
    let base = [("KUBEFLOW_ENDPOINT", "http://gw")];
    let case = |extra: Vec<(&'static str, &'static str)>| {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend(extra);
        loader(&v, home.path())
    };
    let c = case(vec![("KUBEFLOW_TOKEN", "t"), ("KUBEFLOW_COOKIE", "c=1")])
        .load()
        .await
        .expect("cfg");
    assert!(matches!(c.credentials, Credentials::Bearer(_)));
    let c = case(vec![
        ("KUBEFLOW_TOKEN_FILE", "/tmp/tok"),
        ("KUBEFLOW_COOKIE", "c=1"),
    ])
    .load()
    .await
    .expect("cfg");
    assert!(matches!(&c.credentials, Credentials::TokenFile(p) if p == Path::new("/tmp/tok")));
    let c = case(vec![
        ("KUBEFLOW_COOKIE", "c=1"),
        ("KF_PIPELINES_SA_TOKEN_PATH", "/x"),
    ])
    .load()
    .await
    .expect("cfg");
    assert!(matches!(c.credentials, Credentials::Cookie(_)));
    let c = case(vec![("KF_PIPELINES_SA_TOKEN_PATH", "/sa/token")])
        .load()
        .await
        .expect("cfg");
    assert!(matches!(&c.credentials, Credentials::TokenFile(p) if p == Path::new("/sa/token")));
    let err = case(vec![("KUBEFLOW_USERNAME", "u")])
        .load()
        .await
        .expect_err("half a login");
    assert!(
        err.to_string().contains("KUBEFLOW_PASSWORD is not"),
        "{err}"
    );
}

#[tokio::test]
async fn malformed_variables_name_themselves() {
    let home = tempfile::tempdir().expect("tmp");
    for (k, v, needle) in [
        ("KUBEFLOW_ENDPOINT", "ftp://x", "KUBEFLOW_ENDPOINT"),
        ("KUBEFLOW_ENDPOINT", "kube-proxy://kubeflow", "missing `/`"),
        ("KUBEFLOW_TIMEOUT", "soon", "KUBEFLOW_TIMEOUT=`soon`"),
        ("KUBEFLOW_MAX_ATTEMPTS", "0", "KUBEFLOW_MAX_ATTEMPTS"),
        (
            "KUBEFLOW_INSECURE_SKIP_TLS_VERIFY",
            "maybe",
            "true or false",
        ),
        ("KUBEFLOW_HEADERS", "no colon here", "has no `:`"),
    ] {
        let mut vars = vec![(k, v)];
        if k != "KUBEFLOW_ENDPOINT" {
            vars.push(("KUBEFLOW_ENDPOINT", "http://gw"));
        }
        let err = loader(&vars, home.path()).load().await.expect_err(k);
        assert!(err.to_string().contains(needle), "{k}={v}: {err}");
    }
}

#[tokio::test]
async fn endpoint_forms() {
    assert_eq!(
        Endpoint::parse("kube-proxy://kubeflow/ml-pipeline:http").expect("parse"),
        Endpoint::kfp_kube_proxy("kubeflow")
    );
    assert!(matches!(
        Endpoint::parse("port-forward://istio-system/istio-ingressgateway:80").expect("parse"),
        Endpoint::PortForward { port: 80, .. }
    ));
    assert!(matches!(
        Endpoint::parse("direct+http://ml-pipeline.kubeflow:8888").expect("parse"),
        Endpoint::Direct(_)
    ));
    assert!(Endpoint::parse("port-forward://a/b:http").is_err());
    // Base URLs keep their path prefix.
    let Endpoint::Gateway(u) = Endpoint::gateway("https://kf.example.com/base").expect("url")
    else {
        panic!("gateway")
    };
    assert_eq!(u.as_str(), "https://kf.example.com/base/");
}

#[tokio::test]
async fn kfp_context_file_gives_namespace_and_cookie() {
    let home = tempfile::tempdir().expect("tmp");
    let dir = home.path().join(".config/kfp");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("context.json"),
        r#"{"namespace": "from-context", "client_authentication_cookie": "authservice_session=abc", "client_authentication_header_name": "", "client_authentication_header_value": ""}"#,
    )
    .expect("write");
    let c = loader(&[("KUBEFLOW_ENDPOINT", "http://gw")], home.path())
        .load()
        .await
        .expect("cfg");
    assert_eq!(c.namespace.as_deref(), Some("from-context"));
    assert!(matches!(c.credentials, Credentials::Cookie(_)));
    assert!(c.headers.is_empty());

    std::fs::write(dir.join("context.json"), r#"{"namespace": 5}"#).expect("write");
    let err = loader(&[("KUBEFLOW_ENDPOINT", "http://gw")], home.path())
        .load()
        .await
        .expect_err("bad file");
    let text = err.to_string();
    assert!(
        text.contains("context.json") && text.contains("namespace"),
        "{text}"
    );
}

#[tokio::test]
async fn in_cluster_gives_the_kfp_service() {
    let home = tempfile::tempdir().expect("tmp");
    let sa = home.path().join("sa");
    std::fs::create_dir_all(&sa).expect("mkdir");
    std::fs::write(sa.join("token"), "x").expect("token");
    std::fs::write(sa.join("namespace"), "team-in-cluster\n").expect("ns");
    let map: HashMap<String, String> = [(
        "KUBERNETES_SERVICE_HOST".to_string(),
        "10.0.0.1".to_string(),
    )]
    .into();
    let c = ConfigLoader::new()
        .env_lookup(move |k| map.get(k).cloned())
        .home_dir(home.path())
        .in_cluster_dir(&sa)
        .load_kube(false)
        .load()
        .await;
    let c = c.expect("in-cluster config");
    assert_eq!(c.namespace.as_deref(), Some("team-in-cluster"));
    assert_eq!(
        c.endpoint,
        Endpoint::kfp_in_cluster("kubeflow").expect("url")
    );
    assert!(c.source.starts_with("in-cluster"), "{}", c.source);
}

#[tokio::test]
async fn kubeconfig_gives_the_kube_proxy() {
    let home = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(home.path().join(".kube")).expect("mkdir");
    std::fs::write(home.path().join(".kube/config"), KUBECONFIG).expect("write");
    let c = loader(&[], home.path()).load().await.expect("cfg");
    assert_eq!(c.endpoint, Endpoint::kfp_kube_proxy("kubeflow"));
    assert!(matches!(c.credentials, Credentials::Kube));
    assert_eq!(c.namespace.as_deref(), Some("team-from-kubeconfig"));
    assert!(c.kube.is_some());
    assert!(c.source.contains("kubeconfig"));
    // KUBECONFIG naming a missing file is reported as such.
    let missing = home.path().join("nope");
    let err = loader(
        &[("KUBECONFIG", missing.to_str().unwrap_or("x"))],
        home.path(),
    )
    .load()
    .await
    .expect_err("missing kubeconfig");
    assert!(err.to_string().contains("names no existing file"), "{err}");
}
