//! Notebooks built by `NotebookBuilder`: insta snapshots of what is sent, and validation errors.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Toleration,
};
use kubeflow_notebooks::{AccessMode, Error, NotebookBuilder, NotebookVolume, ServerKind};

const IMAGE: &str = "kubeflownotebookswg/jupyter-scipy:v1.9.0";

fn invalid_field(result: Result<kubeflow_notebooks::NotebookRequest, Error>) -> (String, String) {
    match result {
        Err(Error::Invalid { field, message }) => (field, message),
        Err(other) => panic!("expected Error::Invalid, got {other:?}"),
        Ok(req) => panic!("expected an error, built {:?}", req.notebook),
    }
}

#[test]
fn minimal_jupyter() {
    let req = NotebookBuilder::new("minimal", IMAGE).build().unwrap();
    assert!(req.pvcs.is_empty());
    insta::assert_yaml_snapshot!(req.notebook);
}

#[test]
fn full_jupyter_with_volumes_gpus_and_pod_defaults() {
    let req = NotebookBuilder::new("trainer", IMAGE)
        .namespace("team-a")
        .image_pull_policy("IfNotPresent")
        .cpu("500m")
        .cpu_limit("2")
        .memory("1Gi")
        .memory_limit("4Gi")
        .gpus("nvidia", 2)
        .workspace(NotebookVolume::new_pvc("20Gi").storage_class("fast-ssd"))
        .data_volume(NotebookVolume::existing("datasets").read_only(true))
        .data_volume(
            NotebookVolume::new_pvc("100Gi")
                .access_mode(AccessMode::ReadWriteMany)
                .mount_path("/data/scratch"),
        )
        .shm(true)
        .env("MLFLOW_TRACKING_URI", "http://mlflow.mlflow:5000")
        .env("PYTHONUNBUFFERED", "1")
        .toleration(Toleration {
            key: Some("nvidia.com/gpu".into()),
            operator: Some("Exists".into()),
            effect: Some("NoSchedule".into()),
            ..Toleration::default()
        })
        .affinity(Affinity {
            node_affinity: Some(NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(vec![NodeSelectorRequirement {
                            key: "node.kubernetes.io/instance-type".into(),
                            operator: "In".into(),
                            values: Some(vec!["p3.2xlarge".into()]),
                        }]),
                        match_fields: None,
                    }],
                }),
                ..NodeAffinity::default()
            }),
            ..Affinity::default()
        })
        .pod_default("access-ml-pipeline")
        .label("team", "research")
        .annotation("notebooks.kubeflow.org/creator", "alice@example.com")
        .build()
        .unwrap();
    insta::assert_yaml_snapshot!("full_notebook", req.notebook);
    insta::assert_yaml_snapshot!("full_pvcs", req.pvcs);
}

#[test]
fn vscode_and_rstudio_annotations() {
    let vscode = NotebookBuilder::new("code", "kubeflownotebookswg/codeserver-python:v1.9.0")
        .server_kind(ServerKind::VsCode)
        .build()
        .unwrap();
    insta::assert_yaml_snapshot!("vscode_metadata", vscode.notebook.metadata);
    let rstudio = NotebookBuilder::new("rs", "kubeflownotebookswg/rstudio-tidyverse:v1.9.0")
        .namespace("team-a")
        .server_kind(ServerKind::RStudio)
        .build()
        .unwrap();
    insta::assert_yaml_snapshot!("rstudio_metadata", rstudio.notebook.metadata);
    assert_eq!(rstudio.notebook.server_kind(), ServerKind::RStudio);

    // RStudio's root path needs the namespace.
    let (field, message) = invalid_field(
        NotebookBuilder::new("rs", "img")
            .server_kind(ServerKind::RStudio)
            .build(),
    );
    assert_eq!(field, "namespace");
    assert!(message.contains("X-RStudio-Root-Path"), "{message}");
}

#[test]
fn container_is_named_after_the_notebook() {
    let req = NotebookBuilder::new("my-nb", IMAGE).build().unwrap();
    let c = req.notebook.notebook_container().unwrap();
    assert_eq!(c.name, "my-nb");
    assert_eq!(req.notebook.image(), Some(IMAGE));
    assert_eq!(req.notebook.gateway_path(), None, "no namespace yet");
    let req = NotebookBuilder::new("my-nb", IMAGE)
        .namespace("ns")
        .build()
        .unwrap();
    assert_eq!(
        req.notebook.gateway_path().as_deref(),
        Some("/notebook/ns/my-nb/")
    );
}

#[test]
fn zero_gpus_means_none() {
    let req = NotebookBuilder::new("nb", IMAGE)
        .gpus("amd", 0)
        .build()
        .unwrap();
    let c = req.notebook.notebook_container().unwrap();
    assert!(c.resources.is_none(), "{:?}", c.resources);
}

#[test]
fn name_rules() {
    for (name, needle) in [
        ("", "must not be empty"),
        ("My-Notebook", "must start with a lowercase letter"),
        ("1notebook", "must start with a lowercase letter"),
        ("nb_1", "contains `_`"),
        ("nb-", "must start and end"),
        (
            "a-very-long-notebook-name-that-goes-on-and-on-and-on-x",
            "at most 52",
        ),
    ] {
        let (field, message) = invalid_field(NotebookBuilder::new(name, IMAGE).build());
        assert_eq!(field, "name", "{name}");
        assert!(message.contains(needle), "{name}: {message}");
    }
    // 52 characters is fine.
    let ok = "a".repeat(52);
    NotebookBuilder::new(ok, IMAGE).build().unwrap();
}

#[test]
fn limits_below_requests_are_refused() {
    let (field, message) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .cpu("2")
            .cpu_limit("1500m")
            .build(),
    );
    assert_eq!(field, "cpu_limit");
    assert_eq!(message, "the limit 1500m is below the request 2");
    let (field, message) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .memory("1Gi")
            .memory_limit("1G")
            .build(),
    );
    assert_eq!(field, "memory_limit");
    assert!(message.contains("below the request 1Gi"), "{message}");
    // Equal is fine.
    NotebookBuilder::new("nb", IMAGE)
        .memory("1Gi")
        .memory_limit("1024Mi")
        .build()
        .unwrap();
}

#[test]
fn bad_quantities() {
    let (field, message) = invalid_field(NotebookBuilder::new("nb", IMAGE).cpu("two").build());
    assert_eq!(field, "cpu");
    assert!(message.contains("not a Kubernetes quantity"), "{message}");
    let (field, _) = invalid_field(NotebookBuilder::new("nb", IMAGE).memory("0").build());
    assert_eq!(field, "memory");
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .workspace(NotebookVolume::new_pvc("10 GB"))
            .build(),
    );
    assert_eq!(field, "workspace.size");
}

#[test]
fn unknown_gpu_vendor() {
    let (field, message) =
        invalid_field(NotebookBuilder::new("nb", IMAGE).gpus("voodoo", 1).build());
    assert_eq!(field, "gpus.vendor");
    assert!(message.contains("unknown GPU vendor `voodoo`"), "{message}");
    // Resource names and other accelerators.
    let req = NotebookBuilder::new("nb", IMAGE)
        .gpus("nvidia.com/gpu", 1)
        .build()
        .unwrap();
    let limits = req
        .notebook
        .notebook_container()
        .unwrap()
        .resources
        .clone()
        .unwrap()
        .limits
        .unwrap();
    assert_eq!(limits["nvidia.com/gpu"].0, "1");
    let req = NotebookBuilder::new("nb", IMAGE)
        .gpu_resource("habana.ai/gaudi", 8)
        .build()
        .unwrap();
    let limits = req
        .notebook
        .notebook_container()
        .unwrap()
        .resources
        .clone()
        .unwrap()
        .limits
        .unwrap();
    assert_eq!(limits["habana.ai/gaudi"].0, "8");
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .gpu_resource("gaudi", 1)
            .build(),
    );
    assert_eq!(field, "gpu_resource");
}

#[test]
fn volume_rules() {
    let (field, message) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .data_volume(NotebookVolume::existing("a").mount_path("data"))
            .build(),
    );
    assert_eq!(field, "data_volumes[0].mount_path");
    assert!(message.contains("absolute"), "{message}");
    let (field, message) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .workspace(NotebookVolume::new_pvc("1Gi"))
            .data_volume(NotebookVolume::existing("b").mount_path("/home/jovyan"))
            .build(),
    );
    assert_eq!(field, "data_volumes[0].mount_path");
    assert!(message.contains("already used"), "{message}");
    let (field, message) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .data_volume(NotebookVolume::existing("same"))
            .data_volume(NotebookVolume::existing("same").mount_path("/x"))
            .build(),
    );
    assert_eq!(field, "data_volumes[1].name");
    assert!(message.contains("used twice"), "{message}");
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .data_volume(NotebookVolume::existing("Bad_Name"))
            .build(),
    );
    assert_eq!(field, "data_volumes[0].name");
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .data_volume(NotebookVolume::existing("x").mount_path("/dev/shm"))
            .shm(true)
            .build(),
    );
    assert_eq!(field, "shm");
}

#[test]
fn env_labels_and_misc() {
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .env("A", "1")
            .env("A", "2")
            .build(),
    );
    assert_eq!(field, "env.A");
    let (field, _) = invalid_field(NotebookBuilder::new("nb", IMAGE).env("A=B", "1").build());
    assert_eq!(field, "env.A=B");
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .pod_default("bad label!")
            .build(),
    );
    assert_eq!(field, "labels.bad label!");
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .label("ok", "not ok!")
            .build(),
    );
    assert_eq!(field, "labels.ok");
    let (field, _) = invalid_field(NotebookBuilder::new("nb", " ").build());
    assert_eq!(field, "image");
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .image_pull_policy("Sometimes")
            .build(),
    );
    assert_eq!(field, "image_pull_policy");
    let (field, _) = invalid_field(
        NotebookBuilder::new("nb", IMAGE)
            .namespace("Team A")
            .build(),
    );
    assert_eq!(field, "namespace");
    // The error's Display names the field.
    let err = NotebookBuilder::new("nb", IMAGE)
        .cpu("x")
        .build()
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid cpu: "), "{err}");
}

#[test]
fn service_account_defaults_to_default_editor() {
    let req = NotebookBuilder::new("nb", IMAGE).build().unwrap();
    let spec = req.notebook.spec.template.spec.clone().unwrap();
    assert_eq!(spec.service_account_name.as_deref(), Some("default-editor"));
    let req = NotebookBuilder::new("nb", IMAGE)
        .service_account(None)
        .build()
        .unwrap();
    let spec = req.notebook.spec.template.spec.clone().unwrap();
    assert_eq!(spec.service_account_name, None);
}
