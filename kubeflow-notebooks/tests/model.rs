//! The custom resource types: unknown fields survive, v1beta1 converts, phases are computed
//! like the Jupyter web app.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use kubeflow_notebooks::{Notebook, NotebookPhase, PodDefault, Profile, ServerKind, v1beta1};
use serde_json::{Value, json};

fn notebook(status: Value, annotations: Value) -> Notebook {
    serde_json::from_value(json!({
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": { "name": "nb", "namespace": "ns", "annotations": annotations },
        "spec": { "template": { "spec": { "containers": [ { "name": "nb", "image": "img" } ] } } },
        "status": status,
    }))
    .unwrap()
}

#[test]
fn unknown_fields_survive_a_round_trip() {
    let raw = json!({
        "apiVersion": "kubeflow.org/v1",
        "kind": "Notebook",
        "metadata": { "name": "nb", "namespace": "ns" },
        "spec": {
            "futureSpecField": { "a": 1 },
            "template": {
                "metadata": { "labels": { "x": "y" } },
                "spec": { "containers": [ { "name": "nb", "image": "img" } ] }
            }
        },
        "status": {
            "conditions": [ { "type": "Ready", "status": "True", "lastProbeTime": "2026-11-30T09:00:00Z" } ],
            "readyReplicas": 1,
            "containerState": { "running": { "startedAt": "2026-11-30T09:00:00Z" } },
            "futureStatusField": "kept"
        }
    });
    let nb: Notebook = serde_json::from_value(raw.clone()).unwrap();
    assert!(nb.is_ready());
    assert_eq!(serde_json::to_value(&nb).unwrap(), raw);

    let pd_raw = json!({
        "apiVersion": "kubeflow.org/v1alpha1",
        "kind": "PodDefault",
        "metadata": { "name": "access-ml-pipeline", "namespace": "ns" },
        "spec": {
            "desc": "Allow access to Kubeflow Pipelines",
            "selector": { "matchLabels": { "access-ml-pipeline": "true" } },
            "env": [ { "name": "KF_PIPELINES_SA_TOKEN_PATH", "value": "/var/run/secrets/kubeflow/pipelines/token" } ],
            "volumeMounts": [ { "mountPath": "/var/run/secrets/kubeflow/pipelines", "name": "volume-kf-pipeline-token", "readOnly": true } ],
            "volumes": [ { "name": "volume-kf-pipeline-token", "projected": { "sources": [ { "serviceAccountToken": { "audience": "pipelines.kubeflow.org", "expirationSeconds": 7200, "path": "token" } } ] } } ],
            "someNewField": [1, 2]
        }
    });
    let pd: PodDefault = serde_json::from_value(pd_raw.clone()).unwrap();
    assert_eq!(pd.label(), Some("access-ml-pipeline"));
    assert_eq!(pd.desc(), Some("Allow access to Kubeflow Pipelines"));
    assert_eq!(serde_json::to_value(&pd).unwrap(), pd_raw);

    let profile_raw = json!({
        "apiVersion": "kubeflow.org/v1",
        "kind": "Profile",
        "metadata": { "name": "team-a" },
        "spec": {
            "owner": { "kind": "User", "name": "alice@example.com", "apiGroup": "rbac.authorization.k8s.io" },
            "plugins": [ { "kind": "WorkloadIdentity", "spec": { "gcpServiceAccount": "sa@p.iam" } } ],
            "resourceQuotaSpec": { "hard": { "cpu": "8", "requests.nvidia.com/gpu": "2" } },
            "extraThing": true
        },
        "status": { "conditions": [ { "type": "Ready", "status": "True", "message": "ok" } ] }
    });
    let profile: Profile = serde_json::from_value(profile_raw.clone()).unwrap();
    assert_eq!(profile.owner_name(), Some("alice@example.com"));
    assert_eq!(serde_json::to_value(&profile).unwrap(), profile_raw);
}

#[test]
fn v1beta1_converts_both_ways() {
    let v1 = notebook(
        json!({"conditions": [], "readyReplicas": 1, "containerState": {}}),
        json!({}),
    );
    let beta: v1beta1::Notebook = v1.clone().into();
    let wire = serde_json::to_value(&beta).unwrap();
    assert_eq!(wire["apiVersion"], "kubeflow.org/v1beta1");
    assert_eq!(wire["kind"], "Notebook");
    let back: v1beta1::Notebook = serde_json::from_value(wire).unwrap();
    let v1_again: Notebook = back.into();
    assert_eq!(v1_again, v1);
    use kube::Resource;
    assert_eq!(v1beta1::Notebook::api_version(&()), "kubeflow.org/v1beta1");
    assert_eq!(v1beta1::Notebook::plural(&()), "notebooks");
}

#[test]
fn phases() {
    let stop = json!({ "kubeflow-resource-stopped": "2026-11-30T09:00:00Z" });
    assert_eq!(
        notebook(Value::Null, json!({})).phase(),
        NotebookPhase::Uninitialized
    );
    assert_eq!(
        notebook(
            json!({"conditions": [], "readyReplicas": 1, "containerState": {}}),
            json!({})
        )
        .phase(),
        NotebookPhase::Ready
    );
    assert_eq!(
        notebook(
            json!({"conditions": [], "readyReplicas": 0, "containerState": {}}),
            stop.clone()
        )
        .phase(),
        NotebookPhase::Stopped
    );
    assert_eq!(
        notebook(
            json!({"conditions": [], "readyReplicas": 1, "containerState": {}}),
            stop
        )
        .phase(),
        NotebookPhase::Stopping
    );
    let pulling = notebook(
        json!({"conditions": [], "readyReplicas": 0, "containerState": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"nope\""}}}),
        json!({}),
    );
    let phase = pulling.phase();
    assert!(phase.is_fatal());
    assert_eq!(
        phase.to_string(),
        "waiting: ImagePullBackOff (Back-off pulling image \"nope\")"
    );
    let creating = notebook(
        json!({"conditions": [], "readyReplicas": 0, "containerState": {"waiting": {"reason": "ContainerCreating"}}}),
        json!({}),
    );
    assert!(!creating.phase().is_fatal());
    let unschedulable = notebook(
        json!({"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"}], "readyReplicas": 0, "containerState": {}}),
        json!({}),
    );
    assert_eq!(
        unschedulable.phase(),
        NotebookPhase::Waiting {
            reason: Some("Unschedulable".into()),
            message: Some("0/3 nodes are available".into())
        }
    );
    let crashed = notebook(
        json!({"conditions": [], "readyReplicas": 0, "containerState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}),
        json!({}),
    );
    assert_eq!(
        crashed.phase().to_string(),
        "terminated with exit code 137 (OOMKilled)"
    );
}

#[test]
fn server_kinds() {
    assert_eq!(
        notebook(Value::Null, json!({})).server_kind(),
        ServerKind::Jupyter
    );
    let nb = notebook(
        Value::Null,
        json!({"notebooks.kubeflow.org/server-type": "group-one"}),
    );
    assert_eq!(nb.server_kind(), ServerKind::VsCode);
    let nb = notebook(
        Value::Null,
        json!({"notebooks.kubeflow.org/server-type": "group-nine"}),
    );
    assert_eq!(nb.server_kind(), ServerKind::Unknown("group-nine".into()));
    assert_eq!(ServerKind::RStudio.as_str(), "group-two");
}
