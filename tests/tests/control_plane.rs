//! Proves the real test control plane (`testenv/k8s`): upstream CRDs, custom-resource CRUD,
//! watch, status, server-side apply, schema validation, RBAC, kwok pods and port-forward.
//! Run with `KF_TESTENV_COMPONENTS=k8s scripts/test -p kubeflow-tests`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail, ensure};
use futures::{StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, PostParams, WatchEvent, WatchParams};
use kube::core::Status;
use kubeflow_test_support::k8s::{
    self as tk, EchoServer, KwokPod, TestEnv, apply_object, dynamic_api, kubectl_port_forward,
    parse_yaml_documents, patch_status, reference_dir, round_trip, unique_namespace,
};
use serde_json::{Value, json};
use tokio::time::timeout;

/// The upstream CRD files that `testenv/k8s/start.sh` applies (same selection rules).
fn upstream_crd_files() -> anyhow::Result<Vec<PathBuf>> {
    let root = reference_dir();
    let mut files = Vec::new();
    for dir in [
        "katib/crds",
        "kserve/crds",
        "notebooks/crds",
        "training/crds",
    ] {
        collect_yaml(&root.join(dir), &mut files)?;
    }
    files.retain(|f| {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        !name.starts_with("minimal-") && !name.contains("validation_patches")
    });
    files.sort();
    Ok(files)
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// `metadata.name` of the CustomResourceDefinition in `text`, read line by line (the upstream
/// files are multi-megabyte; their top-level layout is plain).
fn crd_name(text: &str) -> Option<String> {
    if !text
        .lines()
        .any(|l| l.trim_end() == "kind: CustomResourceDefinition")
    {
        return None;
    }
    let mut in_metadata = false;
    for line in text.lines() {
        if line.trim_end() == "metadata:" {
            in_metadata = true;
        } else if in_metadata {
            if let Some(name) = line.strip_prefix("  name:") {
                return Some(name.trim().trim_matches('"').to_owned());
            }
            if !line.starts_with(' ') {
                in_metadata = false;
            }
        }
    }
    None
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn every_upstream_crd_is_established() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let mut expected = BTreeSet::new();
    for file in upstream_crd_files()? {
        let text = std::fs::read_to_string(&file)?;
        if let Some(name) = crd_name(&text) {
            expected.insert(name);
        }
    }
    // katib 3 + kserve 6 + legacy kfserving 2 + notebooks 3 + training 7.
    ensure!(
        expected.len() >= 20,
        "only {} upstream CRDs found in {}",
        expected.len(),
        reference_dir().display()
    );
    let crds = Api::<CustomResourceDefinition>::all(client)
        .list(&ListParams::default())
        .await?;
    let mut missing = Vec::new();
    for name in &expected {
        let Some(crd) = crds
            .items
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))
        else {
            missing.push(format!("{name}: absent"));
            continue;
        };
        let conds = crd.status.as_ref().and_then(|s| s.conditions.as_ref());
        for want in ["Established", "NamesAccepted"] {
            let ok =
                conds.is_some_and(|cs| cs.iter().any(|c| c.type_ == want && c.status == "True"));
            if !ok {
                missing.push(format!("{name}: not {want}"));
            }
        }
    }
    ensure!(missing.is_empty(), "CRDs not ready: {missing:?}");
    Ok(())
}

fn katib_experiment(namespace: &str, name: &str, labels: Value) -> anyhow::Result<Value> {
    let path = reference_dir().join("katib/examples/hp-tuning__random.yaml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut doc = parse_yaml_documents(&text)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("{} has no document", path.display()))?;
    let meta = doc
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| anyhow!("{} has no metadata", path.display()))?;
    meta.insert("name".into(), json!(name));
    meta.insert("namespace".into(), json!(namespace));
    meta.insert("labels".into(), labels);
    Ok(doc)
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn katib_experiment_crud_watch_status_and_server_side_apply() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "cp-katib").await?;
    let api = dynamic_api(&client, "kubeflow.org/v1beta1", "Experiment", Some(&ns)).await?;

    // Watch from "now", so the events below are ours.
    let rv = api
        .list_metadata(&ListParams::default())
        .await?
        .metadata
        .resource_version;
    let rv = rv.ok_or_else(|| anyhow!("list without resourceVersion"))?;
    let mut events = api
        .watch(
            &WatchParams::default()
                .labels("suite=control-plane")
                .timeout(60),
            &rv,
        )
        .await?
        .boxed();

    // Create two; only the first carries the label.
    let a: DynamicObject = serde_json::from_value(katib_experiment(
        &ns,
        "random-a",
        json!({"suite": "control-plane"}),
    )?)?;
    let b: DynamicObject = serde_json::from_value(katib_experiment(
        &ns,
        "random-b",
        json!({"suite": "other"}),
    )?)?;
    api.create(&PostParams::default(), &a).await?;
    api.create(&PostParams::default(), &b).await?;

    // Read.
    let got = api.get("random-a").await?;
    assert_eq!(
        got.data.pointer("/spec/algorithm/algorithmName"),
        Some(&json!("random"))
    );
    assert_eq!(got.data.pointer("/spec/maxTrialCount"), Some(&json!(12)));

    // List with a label selector.
    let listed = api
        .list(&ListParams::default().labels("suite=control-plane"))
        .await?;
    let names: Vec<_> = listed
        .items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    assert_eq!(names, ["random-a"]);
    assert_eq!(api.list(&ListParams::default()).await?.items.len(), 2);

    // Status: play the Katib controller.
    let status = json!({
        "conditions": [{"type": "Created", "status": "True", "reason": "ExperimentCreated",
                        "message": "Experiment is created"}],
        "trials": 0
    });
    let patched = patch_status(
        &client,
        "kubeflow.org/v1beta1",
        "Experiment",
        Some(&ns),
        "random-a",
        status,
    )
    .await?;
    assert_eq!(
        patched.data.pointer("/status/conditions/0/reason"),
        Some(&json!("ExperimentCreated"))
    );
    // The status subresource ignores spec changes and the main resource ignores status changes.
    let mut sneaky = patched.clone();
    sneaky.data["status"] = json!({"trials": 99});
    sneaky.metadata.managed_fields = None;
    let replaced = api
        .replace("random-a", &PostParams::default(), &sneaky)
        .await?;
    assert_eq!(replaced.data.pointer("/status/trials"), Some(&json!(0)));

    // Watch saw ADDED then MODIFIED for the labelled object only.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let ev = timeout(Duration::from_secs(30), events.try_next())
            .await
            .map_err(|_| anyhow!("no watch event within 30 s; seen so far: {seen:?}"))??
            .ok_or_else(|| anyhow!("watch ended; seen so far: {seen:?}"))?;
        match ev {
            WatchEvent::Added(o) => {
                seen.push(("ADDED", o.metadata.name, o.data.pointer("/status").cloned()))
            }
            WatchEvent::Modified(o) => seen.push((
                "MODIFIED",
                o.metadata.name,
                o.data.pointer("/status").cloned(),
            )),
            WatchEvent::Bookmark(_) => {}
            other => bail!("unexpected watch event {other:?}"),
        }
    }
    assert_eq!(seen[0].0, "ADDED");
    assert_eq!(seen[0].1.as_deref(), Some("random-a"));
    assert_eq!(seen[1].0, "MODIFIED");
    assert_eq!(
        seen[1]
            .2
            .as_ref()
            .and_then(|s| s.pointer("/conditions/0/type")),
        Some(&json!("Created"))
    );

    // Server-side apply: change a field, check it and the field manager.
    let mut desired = katib_experiment(&ns, "random-a", json!({"suite": "control-plane"}))?;
    desired["spec"]["maxTrialCount"] = json!(7);
    let applied = apply_object(&client, &desired, None).await?;
    assert_eq!(applied.data.pointer("/spec/maxTrialCount"), Some(&json!(7)));
    let managers: Vec<_> = applied
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.iter().any(|m| m == tk::FIELD_MANAGER),
        "managers: {managers:?}"
    );
    // Status survives an apply of the main resource.
    assert_eq!(
        applied.data.pointer("/status/conditions/0/type"),
        Some(&json!("Created"))
    );
    // Apply is idempotent.
    let again = apply_object(&client, &desired, None).await?;
    assert_eq!(
        again.metadata.resource_version,
        applied.metadata.resource_version
    );
    Ok(())
}

fn api_error(err: &anyhow::Error) -> Option<&Status> {
    err.chain()
        .find_map(|e| match e.downcast_ref::<kube::Error>() {
            Some(kube::Error::Api(status)) => Some(status.as_ref()),
            _ => None,
        })
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn invalid_custom_resources_are_rejected_with_the_api_servers_message() -> anyhow::Result<()>
{
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "cp-invalid").await?;

    // Wrong type in the (structural) KServe InferenceService schema.
    let isvc = json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "bad-isvc", "namespace": ns},
        "spec": {"predictor": {"minReplicas": "three", "sklearn": {"storageUri": "gs://x/y"}}}
    });
    let api = dynamic_api(
        &client,
        "serving.kserve.io/v1beta1",
        "InferenceService",
        Some(&ns),
    )
    .await?;
    let obj: DynamicObject = serde_json::from_value(isvc.clone())?;
    let err = api
        .create(&PostParams::default(), &obj)
        .await
        .err()
        .ok_or_else(|| anyhow!("invalid InferenceService accepted"))?;
    let kube::Error::Api(status) = err else {
        bail!("not an API error: {err}");
    };
    assert_eq!(status.code, 422, "{status:?}");
    assert_eq!(status.reason, "Invalid");
    assert!(
        status
            .message
            .contains("spec.predictor.minReplicas: Invalid value: \"string\": spec.predictor.minReplicas in body must be of type integer"),
        "message: {}",
        status.message
    );
    // Server-side apply rejects the same object earlier, while building the typed patch, and
    // the API server answers 500 (not 422) for that: SDK error handling must expect it.
    let err = apply_object(&client, &isvc, None)
        .await
        .err()
        .ok_or_else(|| anyhow!("invalid InferenceService applied"))?;
    let status = api_error(&err).ok_or_else(|| anyhow!("not an API error: {err:#}"))?;
    assert_eq!(status.code, 500, "{status:?}");
    assert!(
        status
            .message
            .contains("failed to create typed patch object")
            && status
                .message
                .contains(".spec.predictor.minReplicas: expected numeric"),
        "message: {}",
        status.message
    );

    // The notebook controller's kustomize patch (applied by start.sh) makes image required.
    let nb = json!({
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": {"name": "bad-nb", "namespace": ns},
        "spec": {"template": {"spec": {"containers": [{"name": "main"}]}}}
    });
    let err = apply_object(&client, &nb, None)
        .await
        .err()
        .ok_or_else(|| anyhow!("Notebook without image accepted"))?;
    let status = api_error(&err).ok_or_else(|| anyhow!("not an API error: {err:#}"))?;
    assert_eq!(status.code, 422, "{status:?}");
    assert!(
        status
            .message
            .contains("spec.template.spec.containers[0].image: Required value"),
        "message: {}",
        status.message
    );

    // The same notebook with an image is accepted.
    let mut good = nb.clone();
    good["metadata"]["name"] = json!("good-nb");
    good["spec"]["template"]["spec"]["containers"][0]["image"] = json!("jupyter:latest");
    apply_object(&client, &good, None).await?;

    // The legacy KFServing v0.5.1 CRD (converted from v1beta1) serves and validates too.
    let legacy = dynamic_api(
        &client,
        "serving.kubeflow.org/v1beta1",
        "InferenceService",
        Some(&ns),
    )
    .await?;
    assert!(legacy.list(&ListParams::default()).await?.items.is_empty());
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn rbac_denies_a_user_without_permissions() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.unprivileged_kube_client().await?;
    let err = Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .err()
        .ok_or_else(|| anyhow!("unprivileged user could list namespaces"))?;
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 403, "{status:?}");
            assert!(
                status.message.contains("kubeflow-test-nobody"),
                "{}",
                status.message
            );
        }
        other => bail!("expected a 403, got {other}"),
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn a_pod_on_the_kwok_node_is_running() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "cp-kwok").await?;
    let echo = EchoServer::start().await?;
    let pod = KwokPod::new("runner")
        .label("app", "runner")
        .port("echo", 7000, echo.addr())
        .create(&client, env.kwok_node(), &ns)
        .await?;
    let status = pod.status.ok_or_else(|| anyhow!("pod without status"))?;
    assert_eq!(status.phase.as_deref(), Some("Running"));
    assert_eq!(
        pod.spec.and_then(|s| s.node_name).as_deref(),
        Some(env.kwok_node())
    );
    let pods = Api::<Pod>::namespaced(client, &ns)
        .list(&ListParams::default().labels("app=runner"))
        .await?;
    assert_eq!(pods.items.len(), 1);
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn kubectl_port_forward_reaches_a_local_echo_server_through_kwok() -> anyhow::Result<()> {
    let env = TestEnv::from_env();
    let client = env.kube_client().await?;
    let ns = unique_namespace(&client, "cp-pf").await?;
    let echo = EchoServer::start().await?;
    KwokPod::new("echo")
        .port("tcp", 8080, echo.addr())
        .create(&client, env.kwok_node(), &ns)
        .await?;
    let (mut kubectl, local) = kubectl_port_forward(&env, &ns, "pod/echo", 8080).await?;

    let data: Vec<u8> = (0..(1usize << 20))
        .map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8)
        .collect();
    let back = round_trip(local, &data).await?;
    assert!(
        back == data,
        "bytes changed on the way through the port-forward"
    );
    // A second connection through the same forward.
    let back = round_trip(local, b"hello kwok").await?;
    assert_eq!(back, b"hello kwok");
    assert!(
        echo.connections() >= 2,
        "echo server saw {} connections",
        echo.connections()
    );

    kubectl.kill().await?;
    Ok(())
}

#[test]
fn crd_name_reads_metadata_name() {
    let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  annotations:\n    a: b\n  name: foos.example.com\nspec:\n  names:\n    kind: Foo\n";
    assert_eq!(crd_name(text).as_deref(), Some("foos.example.com"));
    assert_eq!(crd_name("kind: ConfigMap\nmetadata:\n  name: x\n"), None);
}
