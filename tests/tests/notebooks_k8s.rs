//! kubeflow-notebooks against the real Kubernetes API server with the upstream Notebook,
//! PodDefault and Profile CRDs (and the notebook controller's validation patches), and kwok as
//! the kubelet for the port-forward connection. The test plays the notebook controller: it
//! writes the Notebook's status and creates the notebook's pod.
//!
//! Run with `KF_TESTENV_COMPONENTS="k8s" scripts/test -p kubeflow-tests --test notebooks_k8s`.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Container, EnvVar, PersistentVolumeClaim, PodSpec, Toleration};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kubeflow_notebooks::{
    Error, Notebook, NotebookBuilder, NotebookPhase, NotebookSpec, NotebookVolume, NotebooksClient,
    PodDefault, PodDefaultSpec, Profile, ProfileSpec, ServerKind,
};
use kubeflow_test_support::k8s::{KwokPod, TestEnv, patch_status, random_suffix, unique_namespace};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const IMAGE: &str = "kubeflownotebookswg/jupyter-scipy:v1.9.0";

async fn setup(prefix: &str) -> Result<(kube::Client, String, NotebooksClient)> {
    let env = TestEnv::try_from_env()?;
    let kube = env.kube_client().await?;
    let ns = unique_namespace(&kube, prefix).await?;
    let notebooks = NotebooksClient::from_kube(kube.clone()).in_namespace(&ns);
    Ok((kube, ns, notebooks))
}

/// Plays the controller: writes the Notebook's status (all three fields are required by the CRD).
async fn set_status(
    kube: &kube::Client,
    ns: &str,
    name: &str,
    ready: i32,
    container_state: serde_json::Value,
    conditions: serde_json::Value,
) -> Result<()> {
    patch_status(
        kube,
        "kubeflow.org/v1",
        "Notebook",
        Some(ns),
        name,
        json!({ "readyReplicas": ready, "containerState": container_state, "conditions": conditions }),
    )
    .await?;
    Ok(())
}

/// Waits (up to 20 s) until `check` holds.
async fn until(check: impl Fn() -> bool) -> Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !check() {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "condition not met after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn full_builder(name: &str) -> NotebookBuilder {
    NotebookBuilder::new(name, IMAGE)
        .image_pull_policy("IfNotPresent")
        .cpu("500m")
        .cpu_limit("2")
        .memory("1Gi")
        .memory_limit("4Gi")
        .gpus("nvidia", 1)
        .workspace(NotebookVolume::new_pvc("10Gi").storage_class("standard"))
        .data_volume(NotebookVolume::existing("datasets").read_only(true))
        .data_volume(NotebookVolume::new_pvc("1Gi").mount_path("/data/scratch"))
        .shm(true)
        .env("MLFLOW_TRACKING_URI", "http://mlflow.mlflow:5000")
        .toleration(Toleration {
            key: Some("nvidia.com/gpu".into()),
            operator: Some("Exists".into()),
            effect: Some("NoSchedule".into()),
            ..Toleration::default()
        })
        .pod_default("access-ml-pipeline")
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn notebook_lifecycle_create_list_stop_start_wait_delete() -> Result<()> {
    let (kube, ns, notebooks) = setup("nb-life").await?;

    // Create: the CRD schema accepts everything the builder writes; the PVCs are made too.
    let created = notebooks.create(full_builder("trainer")).await?;
    assert_eq!(created.metadata.namespace.as_deref(), Some(ns.as_str()));
    assert!(created.metadata.uid.is_some());
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(kube.clone(), &ns);
    let mut pvc_names: Vec<String> = pvcs
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    pvc_names.sort();
    assert_eq!(pvc_names, ["trainer-datavol-2", "trainer-workspace"]);
    let ws = pvcs.get("trainer-workspace").await?;
    let spec = ws.spec.unwrap();
    assert_eq!(spec.storage_class_name.as_deref(), Some("standard"));
    assert_eq!(
        spec.resources.unwrap().requests.unwrap()["storage"].0,
        "10Gi"
    );

    // What was stored is what was built (nothing pruned by the schema).
    let stored = notebooks.get("trainer").await?;
    let built = full_builder("trainer")
        .namespace(ns.clone())
        .build()?
        .notebook;
    assert_eq!(
        serde_json::to_value(&stored.spec)?,
        serde_json::to_value(&built.spec)?
    );
    assert_eq!(stored.metadata.labels, built.metadata.labels);

    // VS Code and RStudio notebooks are accepted too.
    for (name, kind) in [
        ("code", ServerKind::VsCode),
        ("rstudio", ServerKind::RStudio),
    ] {
        let nb = notebooks
            .create(NotebookBuilder::new(name, IMAGE).server_kind(kind.clone()))
            .await?;
        assert_eq!(nb.server_kind(), kind);
    }

    // List.
    let mut names: Vec<String> = notebooks
        .list()
        .await?
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    names.sort();
    assert_eq!(names, ["code", "rstudio", "trainer"]);

    // Stop: the annotation is set (RFC 3339, UTC); waiting for stopped ends at once (no replica).
    let stopped = notebooks.stop("trainer").await?;
    let stamp = stopped.metadata.annotations.as_ref().unwrap()["kubeflow-resource-stopped"].clone();
    chrono::DateTime::parse_from_rfc3339(&stamp).context("stop annotation is RFC 3339")?;
    assert!(stamp.ends_with('Z'));
    assert_eq!(stopped.phase(), NotebookPhase::Stopped);
    let again = notebooks.stop("trainer").await?;
    assert_eq!(
        again.metadata.annotations.as_ref().unwrap()["kubeflow-resource-stopped"],
        stamp,
        "stopping twice keeps the first time"
    );
    notebooks
        .wait_stopped("trainer")
        .timeout(Duration::from_secs(10))
        .await?;
    // Waiting for ready on a stopped notebook fails at once, saying so.
    let err = notebooks
        .wait_ready("trainer")
        .timeout(Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotStarting { phase, .. } if **phase == NotebookPhase::Stopped),
        "{err}"
    );

    // Start: the annotation is removed.
    let started = notebooks.start("trainer").await?;
    assert!(!started.is_stopped());
    assert!(
        !notebooks
            .get("trainer")
            .await?
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key("kubeflow-resource-stopped")
    );

    // Wait until ready while the test plays the controller; progress is reported.
    let phases = Arc::new(Mutex::new(Vec::<NotebookPhase>::new()));
    let seen = phases.clone();
    let waiter = tokio::spawn(
        notebooks
            .wait_ready("trainer")
            .timeout(Duration::from_secs(30))
            .on_progress(move |p| seen.lock().unwrap().push(p.clone()))
            .into_future(),
    );
    // Each status is written once the wait has seen the previous one, so every phase is observed.
    until(|| !phases.lock().unwrap().is_empty()).await?;
    set_status(
        &kube,
        &ns,
        "trainer",
        0,
        json!({ "waiting": { "reason": "ContainerCreating" } }),
        json!([{ "type": "PodScheduled", "status": "True" }]),
    )
    .await?;
    let creating = NotebookPhase::Waiting {
        reason: Some("ContainerCreating".into()),
        message: None,
    };
    until(|| phases.lock().unwrap().contains(&creating)).await?;
    set_status(
        &kube,
        &ns,
        "trainer",
        1,
        json!({ "running": { "startedAt": "2026-11-30T09:00:00Z" } }),
        json!([{ "type": "Ready", "status": "True" }]),
    )
    .await?;
    let ready = waiter.await??;
    assert!(ready.is_ready());
    assert_eq!(ready.ready_replicas(), 1);
    let phases = phases.lock().unwrap().clone();
    assert!(phases.contains(&creating), "{phases:?}");
    assert_eq!(phases.last(), Some(&NotebookPhase::Ready), "{phases:?}");

    // Delete.
    notebooks.delete("trainer").await?;
    let err = notebooks.get("trainer").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    // The volumes stay, as with the Jupyter web app.
    assert!(pvcs.get("trainer-workspace").await.is_ok());
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn wait_reports_the_container_waiting_reason() -> Result<()> {
    let (kube, ns, notebooks) = setup("nb-wait").await?;
    notebooks
        .create(NotebookBuilder::new("broken", "registry.invalid/nope:1"))
        .await?;
    set_status(
        &kube,
        &ns,
        "broken",
        0,
        json!({ "waiting": { "reason": "ImagePullBackOff", "message": "Back-off pulling image \"registry.invalid/nope:1\"" } }),
        json!([{ "type": "Ready", "status": "False", "reason": "ContainersNotReady" }]),
    )
    .await?;
    // Fails fast, naming the reason and the message.
    let started = std::time::Instant::now();
    let err = notebooks
        .wait_ready("broken")
        .timeout(Duration::from_secs(30))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        err.to_string(),
        format!(
            "notebook {ns}/broken is not starting: waiting: ImagePullBackOff (Back-off pulling image \"registry.invalid/nope:1\")"
        )
    );
    // Without failing fast, the deadline's error names the reason too.
    let err = notebooks
        .wait_ready("broken")
        .fail_fast(false)
        .timeout(Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("to be ready after 2s") && text.contains("ImagePullBackOff"),
        "{text}"
    );
    // A notebook that never existed: the deadline, saying it was not found.
    let err = notebooks
        .wait_ready("ghost")
        .timeout(Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not found yet"), "{err}");
    // Deleted while waiting (once the wait has seen it).
    let seen = Arc::new(Mutex::new(false));
    let seen_by_wait = seen.clone();
    let waiter = tokio::spawn(
        notebooks
            .wait_ready("broken")
            .fail_fast(false)
            .timeout(Duration::from_secs(30))
            .on_progress(move |_| *seen_by_wait.lock().unwrap() = true)
            .into_future(),
    );
    until(|| *seen.lock().unwrap()).await?;
    notebooks.delete("broken").await?;
    let err = waiter.await?.unwrap_err();
    assert!(matches!(err, Error::Gone { .. }), "{err}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn bad_fields_are_rejected_with_the_api_servers_message() -> Result<()> {
    let (kube, ns, notebooks) = setup("nb-bad").await?;
    let raw = |containers: Vec<Container>| {
        let mut nb = Notebook::new(
            "bad",
            NotebookSpec::new(PodSpec {
                containers,
                ..PodSpec::default()
            }),
        );
        nb.metadata.namespace = Some(ns.clone());
        kubeflow_notebooks::NotebookRequest::from(nb)
    };
    // The controller's validation patch: a container needs an image.
    let err = notebooks
        .create_request(raw(vec![Container {
            name: "bad".into(),
            ..Container::default()
        }]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    let msg = err.api_message().unwrap();
    assert!(
        msg.contains("spec.template.spec.containers[0].image: Required value"),
        "{msg}"
    );
    assert!(err.to_string().contains("(dry run)"), "{err}");
    assert!(err.to_string().contains(msg), "{err}");
    // … and at least one container.
    let err = notebooks.create_request(raw(vec![])).await.unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    let msg = err.api_message().unwrap();
    assert!(msg.contains("spec.template.spec.containers"), "{msg}");
    // A quantity the schema refuses (the builder would have refused it first).
    let err = notebooks
        .create_request(raw(vec![Container {
            name: "bad".into(),
            image: Some(IMAGE.into()),
            env: Some(vec![EnvVar {
                name: "A".into(),
                value: Some("1".into()),
                value_from: None,
            }]),
            resources: Some(k8s_openapi::api::core::v1::ResourceRequirements {
                limits: Some(BTreeMap::from([(
                    "cpu".to_owned(),
                    k8s_openapi::apimachinery::pkg::api::resource::Quantity("lots".into()),
                )])),
                ..Default::default()
            }),
            ..Container::default()
        }]))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    assert!(err.api_message().unwrap().contains("limits"), "{err}");
    let builder_err = NotebookBuilder::new("bad", IMAGE)
        .cpu_limit("lots")
        .build()
        .unwrap_err();
    assert!(matches!(builder_err, Error::Invalid { .. }));
    // Nothing was created by the refused attempts.
    let api: Api<Notebook> = Api::namespaced(kube.clone(), &ns);
    assert!(api.list(&ListParams::default()).await?.items.is_empty());
    // A name that exists already: 409, and its volumes are not left behind.
    notebooks.create(NotebookBuilder::new("dup", IMAGE)).await?;
    let err = notebooks
        .create(NotebookBuilder::new("dup", IMAGE).workspace(NotebookVolume::new_pvc("1Gi")))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(kube, &ns);
    assert!(pvcs.list(&ListParams::default()).await?.items.is_empty());
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn notebooks_are_readable_as_v1beta1() -> Result<()> {
    let (kube, ns, notebooks) = setup("nb-beta").await?;
    notebooks
        .create(NotebookBuilder::new("nb", IMAGE).cpu("1"))
        .await?;
    let beta: Api<kubeflow_notebooks::v1beta1::Notebook> = Api::namespaced(kube.clone(), &ns);
    let nb = beta.get("nb").await?;
    let v1: Notebook = nb.into();
    assert_eq!(v1.image(), Some(IMAGE));
    // And a v1beta1 object (what the Jupyter web app writes) is readable as v1.
    let mut other: kubeflow_notebooks::v1beta1::Notebook = NotebookBuilder::new("from-jwa", IMAGE)
        .build()?
        .notebook
        .into();
    other.metadata.namespace = Some(ns.clone());
    beta.create(&PostParams::default(), &other).await?;
    assert_eq!(notebooks.get("from-jwa").await?.image(), Some(IMAGE));
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn pod_defaults_crud() -> Result<()> {
    let (_kube, _ns, notebooks) = setup("nb-pd").await?;
    let pds = notebooks.pod_defaults();
    assert!(pds.list().await?.is_empty());
    let mut spec =
        PodDefaultSpec::for_label("access-ml-pipeline", "Allow access to Kubeflow Pipelines");
    spec.env.push(EnvVar {
        name: "KF_PIPELINES_SA_TOKEN_PATH".into(),
        value: Some("/var/run/secrets/kubeflow/pipelines/token".into()),
        value_from: None,
    });
    let created = pds
        .create(&PodDefault::new("access-ml-pipeline", spec))
        .await?;
    assert_eq!(created.label(), Some("access-ml-pipeline"));
    let listed = pds.list().await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].desc(), Some("Allow access to Kubeflow Pipelines"));
    assert_eq!(listed[0].spec.env.len(), 1);
    // A notebook selects it by its label.
    let label = listed[0].label().unwrap().to_owned();
    let nb = notebooks
        .create(NotebookBuilder::new("nb", IMAGE).pod_default(&label))
        .await?;
    assert_eq!(nb.metadata.labels.unwrap()[&label], "true");
    // An empty selector is refused before sending.
    let err = pds
        .create(&PodDefault::new("everything", PodDefaultSpec::default()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    pds.delete("access-ml-pipeline").await?;
    assert!(
        pds.get("access-ml-pipeline")
            .await
            .unwrap_err()
            .is_not_found()
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn profiles_crud_and_the_namespaces_a_user_may_use() -> Result<()> {
    let env = TestEnv::try_from_env()?;
    let admin = env.kube_client().await?;
    let profiles = NotebooksClient::from_kube(admin.clone()).profiles();
    let suffix = random_suffix(6);
    let (a, b) = (format!("team-a-{suffix}"), format!("team-b-{suffix}"));
    for (name, owner) in [(&a, "alice@example.com"), (&b, "bob@example.com")] {
        let spec = ProfileSpec::for_user(owner).with_quota([("cpu", "8"), ("memory", "32Gi")]);
        let p = profiles.create(&Profile::new(name, spec)).await?;
        assert_eq!(p.owner_name(), Some(owner));
    }
    let got = profiles.get(&a).await?;
    let quota = got.spec.resource_quota_spec.unwrap().hard.unwrap();
    assert_eq!(quota["memory"].0, "32Gi");
    let listed: Vec<String> = profiles
        .list()
        .await?
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    assert!(listed.contains(&a) && listed.contains(&b), "{listed:?}");
    // A profile without an owner is refused before sending.
    let err = profiles
        .create(&Profile::new(
            &format!("x-{suffix}"),
            ProfileSpec::default(),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");

    // The admin may use every profile's namespace.
    let mine: Vec<String> = profiles
        .namespaces()
        .await?
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert!(mine.contains(&a) && mine.contains(&b), "{mine:?}");

    // A user without permissions cannot even list profiles.
    let nobody = env.unprivileged_kube_client().await?;
    let nobody_profiles = NotebooksClient::from_kube(nobody.clone()).profiles();
    let user = nobody_profiles.current_user().await?;
    assert!(!user.is_empty());
    let err = nobody_profiles.namespaces().await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    // Allowed to read profiles and made a contributor of team A: only team A is theirs.
    let subject = Subject {
        kind: "User".into(),
        name: user.clone(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        namespace: None,
    };
    let reader = format!("kf-test-profile-reader-{suffix}");
    Api::<ClusterRole>::all(admin.clone())
        .create(
            &PostParams::default(),
            &ClusterRole {
                metadata: ObjectMeta {
                    name: Some(reader.clone()),
                    ..ObjectMeta::default()
                },
                rules: Some(vec![PolicyRule {
                    api_groups: Some(vec!["kubeflow.org".into()]),
                    resources: Some(vec!["profiles".into()]),
                    verbs: vec!["get".into(), "list".into()],
                    ..PolicyRule::default()
                }]),
                ..ClusterRole::default()
            },
        )
        .await?;
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(
            &PostParams::default(),
            &ClusterRoleBinding {
                metadata: ObjectMeta {
                    name: Some(reader.clone()),
                    ..ObjectMeta::default()
                },
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "ClusterRole".into(),
                    name: reader.clone(),
                },
                subjects: Some(vec![subject.clone()]),
            },
        )
        .await?;
    // Profile namespaces exist in a real cluster (the profile controller makes them).
    for ns in [&a, &b] {
        let namespace = k8s_openapi::api::core::v1::Namespace {
            metadata: ObjectMeta {
                name: Some(ns.clone()),
                ..ObjectMeta::default()
            },
            ..Default::default()
        };
        Api::<k8s_openapi::api::core::v1::Namespace>::all(admin.clone())
            .create(&PostParams::default(), &namespace)
            .await?;
    }
    Api::<Role>::namespaced(admin.clone(), &a)
        .create(
            &PostParams::default(),
            &Role {
                metadata: ObjectMeta {
                    name: Some("notebooks-edit".into()),
                    ..ObjectMeta::default()
                },
                rules: Some(vec![PolicyRule {
                    api_groups: Some(vec!["kubeflow.org".into()]),
                    resources: Some(vec!["notebooks".into()]),
                    verbs: vec!["get".into(), "list".into(), "create".into()],
                    ..PolicyRule::default()
                }]),
            },
        )
        .await?;
    Api::<RoleBinding>::namespaced(admin.clone(), &a)
        .create(
            &PostParams::default(),
            &RoleBinding {
                metadata: ObjectMeta {
                    name: Some("contributor".into()),
                    annotations: Some(BTreeMap::from([
                        ("user".to_owned(), user.clone()),
                        ("role".to_owned(), "edit".to_owned()),
                    ])),
                    ..ObjectMeta::default()
                },
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "Role".into(),
                    name: "notebooks-edit".into(),
                },
                subjects: Some(vec![subject]),
            },
        )
        .await?;
    // RBAC is read from an informer cache: give it a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let theirs = loop {
        let theirs = nobody_profiles.namespaces().await?;
        if !theirs.is_empty() || std::time::Instant::now() > deadline {
            break theirs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let names: Vec<&str> = theirs.iter().map(|n| n.name.as_str()).collect();
    assert!(names.contains(&a.as_str()), "{theirs:?}");
    assert!(!names.contains(&b.as_str()), "{theirs:?}");
    let team_a = theirs.iter().find(|n| n.name == a).unwrap();
    assert_eq!(team_a.owner.as_deref(), Some("alice@example.com"));
    assert!(!team_a.is_owner);

    // Clean up the cluster-scoped objects.
    for p in [&a, &b] {
        profiles.delete(p).await?;
        assert!(profiles.get(p).await.unwrap_err().is_not_found());
    }
    Api::<ClusterRoleBinding>::all(admin.clone())
        .delete(&reader, &DeleteParams::default())
        .await?;
    Api::<ClusterRole>::all(admin)
        .delete(&reader, &DeleteParams::default())
        .await?;
    Ok(())
}

/// A stand-in for a Jupyter server on 127.0.0.1: answers `GET <prefix>api` with Jupyter's
/// version document and anything else with 404. Stopped when dropped.
struct FakeJupyter {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Drop for FakeJupyter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeJupyter {
    async fn start(prefix: String) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let prefix = prefix.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut len = 0;
                    // Read the request head (bounded).
                    while len < buf.len() {
                        match sock.read(&mut buf[len..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => len += n,
                        }
                        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..len]).to_string();
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    log.lock().unwrap().push(line.clone());
                    let path = line.split_whitespace().nth(1).unwrap_or_default();
                    let (status, body) = if path == format!("{prefix}api") {
                        ("200 OK", r#"{"version": "2.14.2"}"#)
                    } else {
                        ("404 Not Found", r#"{"message": "Not Found"}"#)
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Ok(FakeJupyter {
            addr,
            task,
            requests,
        })
    }
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn connect_through_a_port_forward_to_the_notebook_pod() -> Result<()> {
    let env = TestEnv::try_from_env()?;
    let (kube, ns, notebooks) = setup("nb-connect").await?;
    let name = "lab";
    notebooks.create(NotebookBuilder::new(name, IMAGE)).await?;

    // No pod yet: a clear error.
    let err = notebooks.connect(name).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no pod labelled notebook-name=lab"),
        "{err}"
    );

    // Play the controller: the StatefulSet's pod `<name>-0` on the kwok node, its notebook
    // port forwarded by kwok to the stand-in server.
    let prefix = format!("/notebook/{ns}/{name}/");
    let jupyter = FakeJupyter::start(prefix.clone()).await?;
    KwokPod::new(format!("{name}-0"))
        .label("notebook-name", name)
        .label("statefulset", name)
        .port("notebook-port", 8888, jupyter.addr)
        .create(&kube, env.kwok_node(), &ns)
        .await?;
    set_status(
        &kube,
        &ns,
        name,
        1,
        json!({ "running": { "startedAt": "2026-11-30T09:00:00Z" } }),
        json!([{ "type": "Ready", "status": "True" }]),
    )
    .await?;
    notebooks
        .wait_ready(name)
        .timeout(Duration::from_secs(10))
        .await?;

    let conn = notebooks
        .connect(name)
        .timeout(Duration::from_secs(20))
        .await?;
    assert_eq!(conn.status(), Some(200));
    assert_eq!(conn.pod(), "lab-0");
    assert_eq!(conn.pod_port(), 8888);
    assert_eq!(
        conn.url().as_str(),
        format!("http://{}{prefix}", conn.local_addr())
    );
    assert!(conn.local_addr().ip().is_loopback());
    // The check really went through: the stand-in saw it.
    assert!(
        jupyter
            .requests
            .lock()
            .unwrap()
            .contains(&format!("GET {prefix}api HTTP/1.1")),
        "{:?}",
        jupyter.requests.lock().unwrap()
    );
    // And the user can talk to the server through the connection.
    let http = reqwest::Client::builder().no_proxy().build()?;
    let version: serde_json::Value = http
        .get(conn.url().join("api")?)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(version["version"], "2.14.2");
    assert!(conn.port_forward().stats().connections >= 2);
    conn.stop().await;

    // A stopped notebook is not connected to.
    notebooks.stop(name).await?;
    let err = notebooks.connect(name).await.unwrap_err();
    assert!(err.to_string().contains("is stopped"), "{err}");
    Ok(())
}
