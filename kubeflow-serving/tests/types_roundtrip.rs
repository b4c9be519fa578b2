//! The KServe resource types: every reference example round-trips losslessly, unknown fields
//! survive, status fields decode, legacy objects read.

use std::path::PathBuf;

use kubeflow_serving::{
    ClusterServingRuntime, DeploymentMode, InferenceGraph, InferenceService, ProtocolVersion,
    RouterType, ServingRuntime, TrainedModel, legacy,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn reference_dir() -> PathBuf {
    std::env::var_os("KUBEFLOW_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
}

fn round_trip<T: Serialize + DeserializeOwned>(v: &Value) -> T {
    let t: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("decode: {e}\n{v:#}"));
    let back = serde_json::to_value(&t).expect("encode");
    assert_eq!(&back, v, "round trip changed the object");
    t
}

#[test]
fn every_reference_example_round_trips() {
    let dir = reference_dir().join("kserve/examples");
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let text = std::fs::read_to_string(e.path()).expect("read");
        let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text)
            .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
        for v in docs {
            let isvc: InferenceService = round_trip(&v);
            assert!(isvc.metadata.name.is_some());
            n += 1;
        }
    }
    assert!(n >= 6, "{n} objects");
}

fn full_isvc() -> Value {
    json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "sklearn-iris", "namespace": "kubeflow-user", "generation": 3,
                     "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"}},
        "spec": {
            "predictor": {
                "model": {"modelFormat": {"name": "sklearn", "version": "1"}, "runtime": "kserve-sklearnserver",
                          "protocolVersion": "v2", "storageUri": "gs://b/m",
                          "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}, "futureModelField": 1},
                "minReplicas": 0, "maxReplicas": 3, "scaleTarget": 5, "scaleMetric": "concurrency",
                "canaryTrafficPercent": 20, "serviceAccountName": "sa", "timeout": 60,
                "containerConcurrency": 4, "annotations": {"a": "b"},
                "logger": {"mode": "all"}, "priorityClassName": "high"
            },
            "transformer": {"containers": [{"name": "kserve-container", "image": "t:1"}]},
            "explainer": {"art": {"type": "SquareAttack"}},
            "canary": [{"trafficPercent": 10, "predictor": {"sklearn": {"storageUri": "gs://b/m2"}}}],
            "someNewSpecField": {"x": [1, 2]}
        },
        "status": {
            "url": "http://sklearn-iris.kubeflow-user.example.com",
            "address": {"url": "http://sklearn-iris-predictor.kubeflow-user.svc.cluster.local"},
            "observedGeneration": 3,
            "deploymentMode": "Standard",
            "conditions": [
                {"type": "PredictorReady", "status": "True", "lastTransitionTime": "2026-11-30T10:00:00Z"},
                {"type": "Ready", "status": "True", "severity": "Info"}
            ],
            "components": {"predictor": {
                "url": "http://sklearn-iris-predictor.kubeflow-user.example.com",
                "latestReadyRevision": "sklearn-iris-predictor-00002",
                "latestCreatedRevision": "sklearn-iris-predictor-00002",
                "previousRolledoutRevision": "sklearn-iris-predictor-00001",
                "latestRolledoutRevision": "sklearn-iris-predictor-00002",
                "traffic": [
                    {"revisionName": "sklearn-iris-predictor-00002", "percent": 20, "latestRevision": true, "tag": "latest"},
                    {"revisionName": "sklearn-iris-predictor-00001", "percent": 80, "latestRevision": false, "tag": "prev"}
                ]}},
            "modelStatus": {"transitionStatus": "UpToDate",
                            "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"},
                            "copies": {"failedCopies": 0, "totalCopies": 1}},
            "canaryStatuses": [{"name": "c0", "ready": true, "trafficPercent": 10}],
            "statusFromTheFuture": true
        }
    })
}

#[test]
fn full_inference_service_round_trips_and_reads() {
    let isvc: InferenceService = round_trip(&full_isvc());
    assert!(isvc.is_ready());
    assert_eq!(isvc.deployment_mode(), Some(DeploymentMode::Standard));
    assert!(isvc.deployment_mode().is_some_and(|m| m.is_standard()));
    let model = isvc.spec.predictor.model.as_ref().expect("model");
    assert_eq!(model.protocol_version, Some(ProtocolVersion::V2));
    assert_eq!(isvc.predictor_traffic().map(<[_]>::len), Some(2));
    assert_eq!(isvc.spec.canary.as_ref().map(Vec::len), Some(1));
    assert!(isvc.spec.extra.contains_key("someNewSpecField"));
    assert!(isvc.failure().is_none());
}

#[test]
fn readiness_needs_the_generation_observed_and_failures_are_reported() {
    let mut v = full_isvc();
    v["status"]["observedGeneration"] = json!(2);
    let isvc: InferenceService = serde_json::from_value(v.clone()).expect("decode");
    assert!(!isvc.is_ready(), "generation 3 not observed yet");
    v["status"]["modelStatus"]["lastFailureInfo"] = json!({"reason": "ModelLoadFailed", "message": "no such bucket", "location": "pod-1", "exitCode": 1});
    v["status"]["deploymentMode"] = json!("Serverless");
    let isvc: InferenceService = round_trip(&v);
    assert_eq!(
        isvc.failure().as_deref(),
        Some("ModelLoadFailed: no such bucket (at pod-1)")
    );
    assert!(isvc.deployment_mode().is_some_and(|m| m.is_knative()));
    v["status"]["deploymentMode"] = json!("SomethingNew");
    let isvc: InferenceService = round_trip(&v);
    assert_eq!(
        isvc.deployment_mode(),
        Some(DeploymentMode::Unknown("SomethingNew".into()))
    );
}

#[test]
fn runtimes_graphs_trained_models_round_trip() {
    let rt = json!({"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ServingRuntime",
        "metadata": {"name": "kserve-sklearnserver"},
        "spec": {"supportedModelFormats": [{"name": "sklearn", "version": "1", "autoSelect": true, "priority": 1}],
                 "protocolVersions": ["v1", "v2"], "multiModel": false,
                 "containers": [{"name": "kserve-container", "image": "kserve/sklearnserver:latest",
                                 "args": ["--model_name={{.Name}}"]}],
                 "annotations": {"prometheus.kserve.io/port": "8080"}, "imagePullSecrets": [{"name": "x"}]}});
    let r: ServingRuntime = round_trip(&rt);
    assert_eq!(
        r.spec.protocol_versions.as_deref(),
        Some(&[ProtocolVersion::V1, ProtocolVersion::V2][..])
    );
    let mut crt = rt.clone();
    crt["kind"] = json!("ClusterServingRuntime");
    let c: ClusterServingRuntime = serde_json::from_value(crt.clone()).expect("csr");
    let mut back = serde_json::to_value(&c).expect("enc");
    // kube::Resource gives apiVersion/kind; the plain struct does not serialise them.
    back["apiVersion"] = crt["apiVersion"].clone();
    back["kind"] = crt["kind"].clone();
    assert_eq!(back, crt);

    let ig = json!({"apiVersion": "serving.kserve.io/v1alpha1", "kind": "InferenceGraph",
        "metadata": {"name": "g", "generation": 1},
        "spec": {"nodes": {"root": {"routerType": "Sequence", "steps": [
            {"serviceName": "a", "name": "a"}, {"serviceName": "b", "data": "$response", "dependency": "Hard"}]},
            "split": {"routerType": "Splitter", "steps": [{"serviceName": "c", "weight": 30}]}}},
        "status": {"url": "http://g.ns.example.com", "observedGeneration": 1,
                   "conditions": [{"type": "Ready", "status": "True"}], "deploymentMode": "Serverless"}});
    let g: InferenceGraph = round_trip(&ig);
    assert!(g.is_ready());
    assert_eq!(g.spec.nodes["split"].router_type, RouterType::Splitter);

    let tm = json!({"apiVersion": "serving.kserve.io/v1alpha1", "kind": "TrainedModel",
        "metadata": {"name": "m1"},
        "spec": {"inferenceService": "triton-mms", "model": {"storageUri": "gs://b/m", "framework": "sklearn", "memory": "256Mi"}},
        "status": {"url": "http://x/v1/models/m1", "conditions": [{"type": "Ready", "status": "True"}]}});
    let t: TrainedModel = round_trip(&tm);
    assert_eq!(t.spec.model.framework, "sklearn");
}

#[test]
fn legacy_kfserving_objects_read_and_convert() {
    let mut v = full_isvc();
    v["apiVersion"] = json!("serving.kubeflow.org/v1beta1");
    v["metadata"]["uid"] = json!("1234");
    let old: legacy::InferenceService = round_trip(&v);
    let new = old.to_current();
    assert!(new.metadata.uid.is_none());
    assert_eq!(new.spec, old.spec.spec);
    assert_eq!(
        serde_json::to_value(&new).expect("enc")["apiVersion"],
        json!("serving.kserve.io/v1beta1")
    );
}

/// Decoding must fit in a modest stack even in debug builds (watch events are decoded deep in
/// kube's and tokio's poll chain): a regression test for the boxed framework shorthands.
#[test]
fn decoding_fits_in_half_a_megabyte_of_stack() {
    let v = serde_json::to_string(&full_isvc()).expect("json");
    let ok = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let a: Result<InferenceService, _> = serde_json::from_str(&v);
            let ev = format!("{{\"type\":\"ADDED\",\"object\":{v}}}");
            let b: Result<kube::core::WatchEvent<InferenceService>, _> = serde_json::from_str(&ev);
            a.is_ok() && b.is_ok()
        })
        .expect("thread")
        .join()
        .expect("no panic");
    assert!(ok);
}
