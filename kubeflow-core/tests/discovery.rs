//! Discovery against a wiremock "apiserver" (CRD lists) and a wiremock KFP healthz, plus the
//! upstream CRDs from the reference directory.

use std::path::PathBuf;

use kubeflow_core::discovery::{
    self, Component, KubernetesReport, PipelinesHealth, PipelinesReport, Presence,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CRDS_PATH: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

fn crd(name: &str, versions: &[(&str, bool, bool)], established: bool) -> Value {
    let (plural, group) = name.split_once('.').unwrap_or((name, ""));
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": { "name": name },
        "spec": {
            "group": group,
            "names": { "plural": plural, "kind": "X" },
            "scope": "Namespaced",
            "versions": versions.iter().map(|(v, served, storage)| json!({
                "name": v, "served": served, "storage": storage,
            })).collect::<Vec<_>>(),
        },
        "status": { "conditions": [
            { "type": "NamesAccepted", "status": "True" },
            { "type": "Established", "status": if established { "True" } else { "False" } },
        ]},
    })
}

fn crd_list(items: Vec<Value>) -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinitionList",
        "metadata": { "resourceVersion": "7" }, "items": items,
    })
}

async fn apiserver(
    crds: ResponseTemplate,
) -> Result<(MockServer, kube::Client), Box<dyn std::error::Error>> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/version"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "major": "1", "minor": "33", "gitVersion": "v1.33.4", "gitCommit": "abc",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24",
            "compiler": "gc", "platform": "linux/amd64",
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(CRDS_PATH))
        .respond_with(crds)
        .expect(1) // listed once for all components
        .mount(&server)
        .await;
    let client = kube::Client::try_from(kube::Config::new(server.uri().parse()?))?;
    Ok((server, client))
}

#[tokio::test]
async fn components_from_one_crd_list() -> TestResult {
    let v1beta1 = [("v1beta1", true, true)];
    let items = vec![
        crd("experiments.kubeflow.org", &v1beta1, true),
        crd("trials.kubeflow.org", &v1beta1, true),
        crd("suggestions.kubeflow.org", &v1beta1, true),
        // KServe: two of the required three, one not Established yet.
        crd(
            "inferenceservices.serving.kserve.io",
            &[("v1alpha1", false, false), ("v1beta1", true, true)],
            true,
        ),
        crd(
            "servingruntimes.serving.kserve.io",
            &[("v1alpha1", true, true)],
            false,
        ),
        // Notebooks with two served versions.
        crd(
            "notebooks.kubeflow.org",
            &[
                ("v1", true, true),
                ("v1beta1", true, false),
                ("v1alpha1", false, false),
            ],
            true,
        ),
        crd("profiles.kubeflow.org", &[("v1", true, true)], true),
        // Training Operator without the optional jobs.
        crd("tfjobs.kubeflow.org", &[("v1", true, true)], true),
        crd("pytorchjobs.kubeflow.org", &[("v1", true, true)], true),
        crd("something.else.io", &[("v1", true, true)], true),
    ];
    let (_server, client) =
        apiserver(ResponseTemplate::new(200).set_body_json(crd_list(items))).await?;
    let found = discovery::discover(Some(&client), None).await;

    assert_eq!(
        found.kubernetes,
        KubernetesReport::Reachable {
            version: "v1.33.4".into()
        }
    );
    assert_eq!(*found.presence(Component::Katib), Presence::Installed);
    assert_eq!(*found.presence(Component::KServe), Presence::Partial);
    assert_eq!(
        *found.presence(Component::KfServing),
        Presence::NotInstalled
    );
    assert_eq!(*found.presence(Component::Notebooks), Presence::Installed);
    assert_eq!(
        *found.presence(Component::PodDefaults),
        Presence::NotInstalled
    );
    assert_eq!(*found.presence(Component::Profiles), Presence::Installed);
    assert_eq!(
        *found.presence(Component::TrainingOperator),
        Presence::Installed
    );
    assert_eq!(*found.presence(Component::Trainer), Presence::NotInstalled);
    assert_eq!(*found.presence(Component::Pipelines), Presence::NotChecked);

    let notebooks = found
        .component(Component::Notebooks)
        .ok_or("no notebooks report")?;
    assert_eq!(notebooks.crds[0].served_versions, vec!["v1", "v1beta1"]);
    assert_eq!(notebooks.crds[0].storage_version.as_deref(), Some("v1"));
    let kserve = found
        .component(Component::KServe)
        .ok_or("no kserve report")?;
    let isvc = &kserve.crds[0];
    assert!(isvc.found && isvc.established);
    assert_eq!(isvc.served_versions, vec!["v1beta1"]);
    assert!(kserve.crds[1].found && !kserve.crds[1].established);
    assert!(!kserve.crds[2].found);

    assert_eq!(
        found.missing(),
        vec![
            Component::KServe,
            Component::KfServing,
            Component::PodDefaults,
            Component::Trainer
        ]
    );
    assert!(
        found
            .require(&[Component::Katib, Component::Notebooks])
            .is_ok()
    );
    let err = found
        .require(&[Component::Katib, Component::KServe, Component::Pipelines])
        .err()
        .ok_or("expected missing components")?;
    let text = err.to_string();
    assert!(
        text.starts_with(
            "required Kubeflow components are not available: KServe is partially installed: "
        ),
        "{text}"
    );
    assert!(
        text.contains("missing clusterservingruntimes.serving.kserve.io"),
        "{text}"
    );
    assert!(
        text.contains("not Established: servingruntimes.serving.kserve.io"),
        "{text}"
    );
    assert!(text.contains("Kubeflow Pipelines is not checked"), "{text}");
    assert!(!text.contains("Katib"), "{text}");

    let table = found.summary();
    assert!(
        table.starts_with("Kubernetes API server: v1.33.4\n"),
        "{table}"
    );
    let line = |name: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("Katib"), "Katib installed served v1beta1");
    assert_eq!(line("Notebooks"), "Notebooks installed served v1, v1beta1");
    assert_eq!(line("Kubeflow Pipelines"), "Kubeflow Pipelines not checked");
    assert_eq!(
        line("Training Operator"),
        "Training Operator (v1) installed served v1; without the optional mpijobs.kubeflow.org, \
         xgboostjobs.kubeflow.org, paddlejobs.kubeflow.org, jaxjobs.kubeflow.org"
    );
    assert_eq!(line("Trainer (v2)"), "Trainer (v2) not installed");
    Ok(())
}

#[tokio::test]
async fn a_forbidden_crd_list_is_recorded_per_component() -> TestResult {
    let forbidden = ResponseTemplate::new(403).set_body_json(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "customresourcedefinitions.apiextensions.k8s.io is forbidden: User \"alice\" cannot list resource",
        "reason": "Forbidden", "code": 403,
    }));
    let (_server, client) = apiserver(forbidden).await?;
    let found = discovery::discover(Some(&client), None).await;
    assert!(matches!(
        found.kubernetes,
        KubernetesReport::Reachable { .. }
    ));
    for r in &found.components {
        match &r.presence {
            Presence::Unknown(why) => assert!(why.contains("forbidden"), "{why}"),
            other => panic!("{}: expected Unknown, got {other:?}", r.component),
        }
    }
    assert_eq!(found.missing().len(), found.components.len());
    let err = found
        .require(&[Component::Katib])
        .err()
        .ok_or("expected an error")?;
    assert!(
        err.to_string().contains(
            "Katib is not known to be installed: listing CustomResourceDefinitions failed"
        ),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn no_clients_means_nothing_checked_and_nothing_missing() -> TestResult {
    let found = discovery::discover(None, None).await;
    assert_eq!(found.kubernetes, KubernetesReport::NotChecked);
    assert!(
        found
            .components
            .iter()
            .all(|r| r.presence == Presence::NotChecked)
    );
    assert!(found.missing().is_empty());
    assert!(found.require(&[Component::Katib]).is_err());
    Ok(())
}

#[tokio::test]
async fn unreachable_apiserver() -> TestResult {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse()?);
    let client = kube::Client::try_from(config)?;
    let found = discovery::discover(Some(&client), None).await;
    assert!(
        matches!(found.kubernetes, KubernetesReport::Unreachable(_)),
        "{:?}",
        found.kubernetes
    );
    assert!(
        found
            .summary()
            .starts_with("Kubernetes API server: unreachable (")
    );
    Ok(())
}

/// The healthz answer through a plain reqwest client (the crate's `HttpClient` is exercised by
/// `discover` itself once it is built).
#[tokio::test]
async fn pipelines_healthz() -> TestResult {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/apis/v2beta1/healthz"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "multi_user": true, "pipeline_store": "kubernetes",
            "commit_sha": "8d3e6c1", "tag_name": "2.5.0",
        })))
        .mount(&server)
        .await;
    let answer = reqwest::get(format!("{}/apis/v2beta1/healthz", server.uri()))
        .await?
        .json::<Value>()
        .await;
    let report = PipelinesReport::from_healthz(answer);
    assert_eq!(report.presence, Presence::Installed);
    let health = report.health.ok_or("no health")?;
    assert!(health.multi_user);
    assert_eq!(health.pipeline_store.as_deref(), Some("kubernetes"));
    assert_eq!(health.tag_name.as_deref(), Some("2.5.0"));
    assert_eq!(health.commit_sha.as_deref(), Some("8d3e6c1"));

    // Single-user servers omit the false boolean.
    let h = PipelinesHealth::from_json(&json!({}))?;
    assert!(!h.multi_user && h.pipeline_store.is_none());
    assert!(PipelinesHealth::from_json(&json!({"multi_user": "yes"})).is_err());
    assert!(PipelinesHealth::from_json(&json!([1])).is_err());

    let failed = PipelinesReport::from_healthz(Err::<Value, _>("connection refused"));
    assert_eq!(
        failed.presence,
        Presence::Unknown("GET apis/v2beta1/healthz failed: connection refused".into())
    );
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MiniCrd {
    api_version: String,
    metadata: MiniMeta,
    spec: MiniSpec,
}

#[derive(serde::Deserialize)]
struct MiniMeta {
    name: String,
}

#[derive(serde::Deserialize)]
struct MiniSpec {
    versions: Vec<MiniVersion>,
}

#[derive(serde::Deserialize)]
struct MiniVersion {
    name: String,
    #[serde(default)]
    served: bool,
    #[serde(default)]
    storage: bool,
}

fn reference_dir() -> PathBuf {
    std::env::var_os("KUBEFLOW_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
}

/// Reads every upstream CRD in the reference directory, serves them as the cluster's CRD list,
/// and checks that discovery recognises each component from its real CRD names.
#[tokio::test]
async fn upstream_crds_are_recognised() -> TestResult {
    let dir = reference_dir();
    if !dir.is_dir() {
        return Err(format!(
            "the reference directory {} is missing (set KUBEFLOW_REFERENCE_DIR)",
            dir.display()
        )
        .into());
    }
    let mut files = Vec::new();
    for sub in [
        "katib/crds",
        "kserve/crds",
        "kserve/crds/legacy-kfserving-v0.5.1",
        "notebooks/crds",
    ] {
        for entry in std::fs::read_dir(dir.join(sub))? {
            files.push(entry?.path());
        }
    }
    for sub in [
        "training/crds/training-operator-v1",
        "training/crds/trainer-v2",
    ] {
        for entry in std::fs::read_dir(dir.join(sub))? {
            files.push(entry?.path());
        }
    }
    let mut items = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // The full InferenceService CRD (1.9 MB) is replaced by its minimal twin to keep this fast.
        if !name.ends_with(".yaml")
            || name.contains("validation_patches")
            || name == "serving.kserve.io_inferenceservices.yaml"
        {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        // Only the fields discovery reads; the rest (huge schemas) is skipped while parsing.
        // Legacy KFServing ships v1beta1 CRDs, whose versions have the same shape.
        let parsed: MiniCrd =
            serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        assert!(
            parsed.api_version.starts_with("apiextensions.k8s.io/"),
            "{}",
            file.display()
        );
        let versions: Vec<(&str, bool, bool)> = parsed
            .spec
            .versions
            .iter()
            .map(|v| (v.name.as_str(), v.served, v.storage))
            .collect();
        let mut value = crd(&parsed.metadata.name, &versions, true);
        value["status"] = json!({ "conditions": [{ "type": "Established", "status": "True" }] });
        items.push(value);
    }
    assert!(items.len() >= 20, "only {} CRDs read", items.len());

    let (_server, client) =
        apiserver(ResponseTemplate::new(200).set_body_json(crd_list(items))).await?;
    let found = discovery::discover(Some(&client), None).await;
    for c in [
        Component::Katib,
        Component::KServe,
        Component::KfServing,
        Component::Notebooks,
        Component::PodDefaults,
        Component::Profiles,
        Component::TrainingOperator,
        Component::Trainer,
    ] {
        assert_eq!(*found.presence(c), Presence::Installed, "{c}: {found}");
    }
    let katib = found.component(Component::Katib).ok_or("no katib")?;
    assert!(
        katib
            .crds
            .iter()
            .all(|c| c.served_versions == vec!["v1beta1"]),
        "{katib:?}"
    );
    let isvc = &found.component(Component::KServe).ok_or("no kserve")?.crds[0];
    assert_eq!(isvc.storage_version.as_deref(), Some("v1beta1"));
    Ok(())
}
