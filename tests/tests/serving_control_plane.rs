//! `kubeflow_serving::ServingClient` on the real Kubernetes API server of the test environment
//! with the upstream KServe CRDs. No KServe controller runs: the tests play it by writing the
//! status. The data-plane hop uses the real KServe "toy" model server.
//! Run: `KF_TESTENV_COMPONENTS="k8s kserve" scripts/test -p kubeflow-tests --test serving_control_plane`.

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, ensure};
use kube::Client;
use kubeflow_core::wait::WaitError;
use kubeflow_core::{Endpoint, KubeflowClient, KubeflowConfig};
use kubeflow_serving::{
    InferenceGraph, InferenceGraphSpec, InferenceRouter, InferenceService, InferenceStep, Route,
    RouterType, ServingClient,
};
use kubeflow_test_support::k8s::{TestEnv, patch_status, reference_dir, unique_namespace};
use kubeflow_test_support::python::kserve_url;
use serde_json::{Value, json};

const ISVC: &str = "serving.kserve.io/v1beta1";

async fn setup(what: &str) -> anyhow::Result<(Client, String, ServingClient)> {
    let client = TestEnv::try_from_env()?.kube_client().await?;
    let ns = unique_namespace(&client, &format!("serving-{what}")).await?;
    let serving = ServingClient::from_kube(client.clone(), ns.clone());
    Ok((client, ns, serving))
}

fn ready_status(generation: i64, url: &str) -> Value {
    json!({
        "observedGeneration": generation,
        "url": url,
        "address": {"url": "http://x-predictor.ns.svc.cluster.local"},
        "conditions": [
            {"type": "PredictorReady", "status": "True", "lastTransitionTime": "2026-11-30T10:00:00Z"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-30T10:00:00Z"}
        ],
        "modelStatus": {"transitionStatus": "UpToDate", "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"}}
    })
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn reference_examples_are_accepted_and_crud_works() -> anyhow::Result<()> {
    let (_client, _ns, serving) = setup("crud").await?;
    let dir = reference_dir().join("kserve/examples");
    let mut names = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f)?;
        let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text)?;
        for v in docs {
            let isvc: InferenceService = serde_json::from_value(v.clone())?;
            let created = serving
                .create(&isvc)
                .await
                .with_context(|| format!("creating {}", f.display()))?;
            // The real CRD schema accepted it and the server kept every field we sent.
            let sent = serde_json::to_value(&isvc.spec)?;
            let got = serde_json::to_value(&created.spec)?;
            ensure!(
                sent == got,
                "{}: spec changed on the server:\n{sent:#}\n{got:#}",
                f.display()
            );
            names.push(created.metadata.name.clone().context("name")?);
        }
    }
    let listed = serving.list(None).await?;
    ensure!(
        listed.len() == names.len(),
        "listed {} of {}",
        listed.len(),
        names.len()
    );

    let name = names[0].clone();
    let got = serving.get(&name).await?;
    ensure!(got.metadata.generation == Some(1));
    let patched = serving
        .patch(&name, &json!({"spec": {"predictor": {"minReplicas": 2}}}))
        .await?;
    ensure!(patched.spec.predictor.min_replicas == Some(2));
    ensure!(patched.metadata.generation == Some(2));
    let mut r = patched.clone();
    r.metadata
        .labels
        .get_or_insert_default()
        .insert("team".into(), "ml".into());
    let replaced = serving.replace(&r).await?;
    ensure!(
        replaced
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("team"))
            .map(String::as_str)
            == Some("ml")
    );
    // A stale resourceVersion is a conflict.
    let e = serving.replace(&r).await.expect_err("stale replace");
    ensure!(
        e.to_string().contains("409")
            || matches!(&e, kubeflow_core::Error::Kube(kube::Error::Api(s)) if s.code == 409),
        "{e}"
    );
    ensure!(serving.list(Some("team=ml")).await?.len() == 1);

    serving.delete(&name).await?;
    let e = serving.get(&name).await.expect_err("deleted");
    ensure!(
        matches!(&e, kubeflow_core::Error::Kube(kube::Error::Api(s)) if s.code == 404),
        "{e}"
    );
    serving.delete(&name).await?; // already gone: fine
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn wait_ready_needs_ready_and_the_generation_observed() -> anyhow::Result<()> {
    let (client, ns, serving) = setup("wait").await?;
    let isvc = InferenceService::with_model(
        "iris",
        "sklearn",
        "gs://kfserving-examples/models/sklearn/1.0/model",
    );
    serving.create(&isvc).await?;
    let progress = Arc::new(Mutex::new(Vec::new()));
    let p2 = progress.clone();
    let waiter = tokio::spawn(
        serving
            .wait_ready("iris")
            .timeout(Duration::from_secs(30))
            .on_progress(move |r| p2.lock().expect("lock").push(r.to_string()))
            .into_future(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    patch_status(&client, ISVC, "InferenceService", Some(&ns), "iris", json!({
        "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "False", "reason": "PredictorConfigurationReady not ready"}]
    })).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A new spec: generation 2, while the status still says Ready for generation 1.
    serving
        .patch("iris", &json!({"spec": {"predictor": {"minReplicas": 1}}}))
        .await?;
    patch_status(
        &client,
        ISVC,
        "InferenceService",
        Some(&ns),
        "iris",
        ready_status(1, "http://iris.x.example.com"),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(700)).await;
    ensure!(
        !waiter.is_finished(),
        "Ready for an old generation must not count"
    );
    patch_status(
        &client,
        ISVC,
        "InferenceService",
        Some(&ns),
        "iris",
        ready_status(2, "http://iris.x.example.com"),
    )
    .await?;
    let ready = waiter.await??.context("the ready object")?;
    ensure!(ready.is_ready());
    ensure!(ready.url() == Some("http://iris.x.example.com"));
    let progress = progress.lock().expect("lock").clone();
    ensure!(
        progress.iter().any(|p| p.contains("Ready=False")),
        "{progress:?}"
    );
    ensure!(
        progress.iter().any(|p| p.contains("not yet observed")),
        "{progress:?}"
    );

    // Deadline: says what it waited for and the last state.
    serving
        .create(&InferenceService::with_model(
            "never", "sklearn", "gs://b/m",
        ))
        .await?;
    let e = serving
        .wait_ready("never")
        .timeout(Duration::from_secs(1))
        .await
        .expect_err("deadline");
    ensure!(matches!(e, WaitError::Deadline { .. }), "{e}");
    ensure!(e.to_string().contains("never"), "{e}");

    // Failure info: a model that failed to load ends the wait with KServe's reason.
    serving
        .create(&InferenceService::with_model(
            "broken",
            "sklearn",
            "gs://b/nope",
        ))
        .await?;
    let w = tokio::spawn(
        serving
            .wait_ready("broken")
            .timeout(Duration::from_secs(30))
            .into_future(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    patch_status(&client, ISVC, "InferenceService", Some(&ns), "broken", json!({
        "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "False", "reason": "ModelLoadFailed"}],
        "modelStatus": {"transitionStatus": "BlockedByFailedLoad",
                        "states": {"activeModelState": "FailedToLoad", "targetModelState": "FailedToLoad"},
                        "lastFailureInfo": {"reason": "ModelLoadFailed", "message": "gs://b/nope: no such object", "location": "broken-predictor-abc"}}
    })).await?;
    let e = w.await?.expect_err("failed");
    ensure!(matches!(e, WaitError::Failed { .. }), "{e}");
    ensure!(e.to_string().contains("gs://b/nope: no such object"), "{e}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn canary_traffic_changes() -> anyhow::Result<()> {
    let (_client, _ns, serving) = setup("canary").await?;
    serving
        .create(&InferenceService::with_model(
            "flowers",
            "tensorflow",
            "gs://b/v1",
        ))
        .await?;
    serving
        .patch(
            "flowers",
            &json!({"spec": {"predictor": {"model": {"storageUri": "gs://b/v2"}}}}),
        )
        .await?;
    let c = serving.set_canary_traffic("flowers", 10).await?;
    ensure!(c.spec.predictor.canary_traffic_percent == Some(10));
    ensure!(
        c.spec
            .predictor
            .model
            .as_ref()
            .and_then(|m| m.storage_uri.as_deref())
            == Some("gs://b/v2")
    );
    let r = serving.rollback_canary("flowers").await?;
    ensure!(r.spec.predictor.canary_traffic_percent == Some(0));
    let p = serving.promote_canary("flowers").await?;
    ensure!(p.spec.predictor.canary_traffic_percent.is_none());
    ensure!(serving.set_canary_traffic("flowers", 101).await.is_err());
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn inference_graph_crud_and_wait() -> anyhow::Result<()> {
    let (client, ns, serving) = setup("graph").await?;
    let mut nodes = std::collections::BTreeMap::new();
    let mut root = InferenceRouter::default();
    root.router_type = RouterType::Sequence;
    let mut a = InferenceStep::default();
    a.service_name = Some("a".into());
    a.name = Some("a".into());
    let mut b = InferenceStep::default();
    b.service_name = Some("b".into());
    b.data = Some("$response".into());
    root.steps = Some(vec![a, b]);
    nodes.insert("root".to_owned(), root);
    let mut spec = InferenceGraphSpec::default();
    spec.nodes = nodes;
    let g = serving
        .create_graph(&InferenceGraph::new("pipeline", spec))
        .await?;
    ensure!(g.spec.nodes["root"].steps.as_ref().map(Vec::len) == Some(2));
    ensure!(serving.list_graphs().await?.len() == 1);
    let patched = serving
        .patch_graph("pipeline", &json!({"spec": {"minReplicas": 2}}))
        .await?;
    ensure!(patched.spec.min_replicas == Some(2));
    let gen_ = patched.metadata.generation.context("generation")?;
    let w = tokio::spawn(
        serving
            .wait_graph_ready("pipeline")
            .timeout(Duration::from_secs(30))
            .into_future(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    patch_status(
        &client,
        "serving.kserve.io/v1alpha1",
        "InferenceGraph",
        Some(&ns),
        "pipeline",
        json!({
            "observedGeneration": gen_, "url": "http://pipeline.ns.example.com",
            "conditions": [{"type": "Ready", "status": "True"}]
        }),
    )
    .await?;
    let ready = w.await??.context("graph")?;
    ensure!(ready.url() == Some("http://pipeline.ns.example.com"));
    ensure!(serving.get_graph("pipeline").await?.is_ready());
    serving.delete_graph("pipeline").await?;
    ensure!(serving.get_graph("pipeline").await.is_err());
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn inference_client_from_the_status_reaches_the_real_model_server() -> anyhow::Result<()> {
    let (client, ns, _) = setup("route").await?;
    // Through a "gateway" (the real toy server, which ignores Host), with the Host header the
    // gateway would route on, and directly at status.url.
    let kf = KubeflowClient::builder(
        KubeflowConfig::new(Endpoint::gateway(&kserve_url())?).namespace(ns.clone()),
    )
    .kube_client(client.clone())
    .build()?;
    let serving = ServingClient::new(&kf)?;
    serving
        .create(&InferenceService::with_model("toy", "custom", "gs://b/toy"))
        .await?;
    patch_status(
        &client,
        ISVC,
        "InferenceService",
        Some(&ns),
        "toy",
        ready_status(1, &format!("http://toy.{ns}.example.com")),
    )
    .await?;
    let isvc = serving
        .wait_ready("toy")
        .timeout(Duration::from_secs(30))
        .await?
        .context("isvc")?;
    let infer = serving.inference_client(&isvc, Route::External)?;
    let p = infer
        .v1_predict("toy", &json!({"instances": [[1, 2, 3]]}))
        .await?;
    ensure!(p == json!({"predictions": [6]}), "{p}");

    patch_status(
        &client,
        ISVC,
        "InferenceService",
        Some(&ns),
        "toy",
        json!({"url": kserve_url()}),
    )
    .await?;
    let isvc = serving.get("toy").await?;
    let direct = ServingClient::from_kube(client.clone(), ns.clone())
        .inference_client(&isvc, Route::External)?;
    ensure!(direct.model_ready("toy", None).await?);
    let e = serving
        .inference_client(
            &InferenceService::with_model("x", "sklearn", "gs://b"),
            Route::ClusterLocal,
        )
        .expect_err("no url");
    ensure!(e.to_string().contains("has no status.address.url"), "{e}");
    Ok(())
}
