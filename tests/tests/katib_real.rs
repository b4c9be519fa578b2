//! kubeflow-katib on the real Kubernetes API server of the test environment, with the upstream
//! Katib CRDs applied. No Katib controller runs there: the tests play its part by writing the
//! status (conditions, trial counters, the optimal trial) the way it would.

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use kubeflow_core::wait::WaitEvent;
use kubeflow_katib::{
    Error, Experiment, ExperimentBuilder, ExperimentConditionType, ExperimentProgress, KatibClient,
    METRICS_COLLECTOR_LABEL, ObjectiveType, ResumePolicy, Suggestion, Trial, TrialConditionType,
    TrialTemplateBuilder, search,
};
use kubeflow_test_support::k8s::{TestEnv, reference_dir, unique_namespace};
use serde_json::{Value, json};

async fn setup(what: &str) -> anyhow::Result<(Client, String)> {
    let client = TestEnv::try_from_env()?.kube_client().await?;
    // No namespace controller runs in the test control plane: namespaces are left behind.
    let ns = unique_namespace(&client, &format!("katib-{what}")).await?;
    Ok((client, ns))
}

fn experiment(name: &str) -> anyhow::Result<Experiment> {
    Ok(ExperimentBuilder::new(name)
        .label("suite", "katib-real")
        .objective(ObjectiveType::Minimize, "loss")
        .additional_metric("accuracy")
        .algorithm("random")
        .parameter("lr", search::double(0.01, 0.05))
        .parameter("optimizer", search::categorical(["sgd", "adam"]))
        .trial_template(
            TrialTemplateBuilder::job("ghcr.io/kubeflow/katib/pytorch-mnist-cpu:v0.19.0").command(
                [
                    "python3",
                    "/opt/pytorch-mnist/mnist.py",
                    "--lr=${trialParameters.lr}",
                    "--optimizer=${trialParameters.optimizer}",
                ],
            ),
        )
        .max_trial_count(2)
        .parallel_trial_count(2)
        .max_failed_trial_count(1)
        .resume_policy(ResumePolicy::LongRunning)
        .build()?)
}

fn condition(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    let now = "2026-01-01T00:00:00Z";
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "lastUpdateTime": now, "lastTransitionTime": now})
}

/// Writes `.status` through the status subresource, as the controller does.
async fn patch_status<K>(api: &Api<K>, name: &str, status: Value) -> anyhow::Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": status})),
    )
    .await
    .with_context(|| format!("patching the status of {name}"))?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn experiment_lifecycle_with_played_controller() -> anyhow::Result<()> {
    let (client, ns) = setup("life").await?;
    let katib = KatibClient::new(client.clone(), &ns);

    // The namespace label Katib needs: missing, then present.
    let check = katib.check_namespace(None).await?;
    ensure!(!check.is_ready(), "a fresh namespace has no label: {check}");
    ensure!(
        check.to_string().contains("kubectl label namespace"),
        "{check}"
    );
    Api::<Namespace>::all(client.clone())
        .patch(
            &ns,
            &PatchParams::default(),
            &Patch::Merge(&json!({"metadata": {"labels": {METRICS_COLLECTOR_LABEL: "enabled"}}})),
        )
        .await?;
    ensure!(katib.check_namespace(Some(&ns)).await?.is_ready());

    // Create, get, list (label selector).
    let created = katib.create(&experiment("lr-search")?).await?;
    ensure!(created.metadata.uid.is_some(), "the server assigned no uid");
    let got = katib.get("lr-search").await?;
    ensure!(got.spec == created.spec, "get returned another spec");
    let listed = katib.list(Some("suite=katib-real")).await?;
    ensure!(
        listed.len() == 1,
        "label selector listed {} experiments",
        listed.len()
    );
    ensure!(katib.list(Some("suite=other")).await?.is_empty());

    // Wait (watch) in the background, recording progress.
    let seen: Arc<Mutex<Vec<ExperimentProgress>>> = Arc::default();
    let record = seen.clone();
    let waiter = tokio::spawn(
        katib
            .wait("lr-search")
            .timeout(Duration::from_secs(60))
            .on_progress(move |p| {
                if let Ok(mut v) = record.lock() {
                    v.push(p.clone());
                }
            })
            .into_future(),
    );

    // Play the controller: Created, Running with trials, the suggestion, trials with metrics.
    let experiments: Api<Experiment> = Api::namespaced(client.clone(), &ns);
    patch_status(&experiments, "lr-search", json!({
        "startTime": "2026-01-01T00:00:00Z",
        "conditions": [condition("Created", "True", "ExperimentCreated", "Experiment is created")]
    })).await?;
    let suggestions: Api<Suggestion> = Api::namespaced(client.clone(), &ns);
    let suggestion: Suggestion = serde_json::from_value(json!({
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Suggestion",
        "metadata": {"name": "lr-search"},
        "spec": {"algorithm": {"algorithmName": "random"}, "requests": 2, "resumePolicy": "LongRunning"}
    }))?;
    suggestions
        .create(&PostParams::default(), &suggestion)
        .await?;
    patch_status(&suggestions, "lr-search", json!({
        "suggestionCount": 2,
        "suggestions": [
            {"name": "lr-search-aaaaaaaa", "parameterAssignments": [{"name": "lr", "value": "0.02"}, {"name": "optimizer", "value": "adam"}]},
            {"name": "lr-search-bbbbbbbb", "parameterAssignments": [{"name": "lr", "value": "0.04"}, {"name": "optimizer", "value": "sgd"}]}
        ],
        "conditions": [condition("Running", "True", "SuggestionRunning", "Suggestion is running")]
    })).await?;
    let trials: Api<Trial> = Api::namespaced(client.clone(), &ns);
    for (name, lr, opt) in [
        ("lr-search-aaaaaaaa", "0.02", "adam"),
        ("lr-search-bbbbbbbb", "0.04", "sgd"),
    ] {
        let trial: Trial = serde_json::from_value(json!({
            "apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
            "metadata": {"name": name, "labels": {"katib.kubeflow.org/experiment": "lr-search"}},
            "spec": {"objective": {"type": "minimize", "objectiveMetricName": "loss"},
                     "parameterAssignments": [{"name": "lr", "value": lr}, {"name": "optimizer", "value": opt}],
                     "primaryContainerName": "training-container",
                     "runSpec": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}}}
        }))?;
        trials.create(&PostParams::default(), &trial).await?;
        patch_status(
            &trials,
            name,
            json!({
                "conditions": [condition("Created", "True", "TrialCreated", "Trial is created"),
                               condition("Running", "True", "TrialRunning", "Trial is running")]
            }),
        )
        .await?;
    }
    patch_status(&experiments, "lr-search", json!({
        "conditions": [condition("Created", "True", "ExperimentCreated", "Experiment is created"),
                       condition("Running", "True", "ExperimentRunning", "Experiment is running")],
        "trials": 2, "trialsRunning": 2, "runningTrialList": ["lr-search-aaaaaaaa", "lr-search-bbbbbbbb"]
    })).await?;

    // The budget can change while it runs (merge patch through the real server).
    let edited = katib
        .edit_budget("lr-search")
        .parallel_trial_count(1)
        .send()
        .await?;
    ensure!(edited.spec.parallel_trial_count == Some(1));
    ensure!(
        edited.spec.trial_template == created.spec.trial_template,
        "the patch touched other fields"
    );

    for (name, loss, acc) in [
        ("lr-search-aaaaaaaa", "0.12", "0.91"),
        ("lr-search-bbbbbbbb", "0.31", "0.80"),
    ] {
        patch_status(&trials, name, json!({
            "conditions": [condition("Created", "True", "TrialCreated", "Trial is created"),
                           condition("Running", "False", "TrialRunning", "Trial is running"),
                           condition("Succeeded", "True", "TrialSucceeded", "Trial has succeeded")],
            "observation": {"metrics": [{"name": "loss", "min": loss, "max": "0.9", "latest": loss},
                                        {"name": "accuracy", "min": "0.1", "max": acc, "latest": acc}]}
        })).await?;
    }
    patch_status(&experiments, "lr-search", json!({
        "conditions": [condition("Created", "True", "ExperimentCreated", "Experiment is created"),
                       condition("Running", "False", "ExperimentRunning", "Experiment is running"),
                       condition("Succeeded", "True", "ExperimentMaxTrialsReached", "Experiment has succeeded because max trial count has reached")],
        "completionTime": "2026-01-01T00:10:00Z",
        "trials": 2, "trialsSucceeded": 2, "trialsRunning": 0, "runningTrialList": [],
        "succeededTrialList": ["lr-search-aaaaaaaa", "lr-search-bbbbbbbb"],
        "currentOptimalTrial": {
            "bestTrialName": "lr-search-aaaaaaaa",
            "parameterAssignments": [{"name": "lr", "value": "0.02"}, {"name": "optimizer", "value": "adam"}],
            "observation": {"metrics": [{"name": "loss", "min": "0.12", "max": "0.9", "latest": "0.12"},
                                        {"name": "accuracy", "min": "0.1", "max": "0.91", "latest": "0.91"}]}
        }
    })).await?;

    let done = waiter.await??;
    ensure!(done.is_succeeded());
    let progress = seen.lock().map(|v| v.clone()).unwrap_or_default();
    ensure!(
        progress
            .iter()
            .any(|p| p.phase == Some(ExperimentConditionType::Running) && p.running == 2),
        "progress never showed 2 running trials: {progress:?}"
    );
    let last = progress.last().context("no progress reported")?;
    ensure!(
        last.phase == Some(ExperimentConditionType::Succeeded) && last.succeeded == 2,
        "{last:?}"
    );
    ensure!(
        last.best_value.as_deref() == Some("0.12"),
        "best value {last:?}"
    );
    ensure!(
        last.to_string()
            == "Succeeded: 2 trials (0 running, 0 pending, 2 succeeded, 0 failed); best loss=0.12 (lr-search-aaaaaaaa)",
        "{last}"
    );

    // The optimal trial and hyperparameters, the trials with metrics, the suggestion.
    let best = katib
        .optimal_hyperparameters("lr-search")
        .await?
        .context("no optimal trial")?;
    ensure!(
        best.get("lr").map(String::as_str) == Some("0.02")
            && best.get("optimizer").map(String::as_str) == Some("adam"),
        "{best:?}"
    );
    let summaries = katib.trials("lr-search").await?;
    ensure!(summaries.len() == 2, "{} trials", summaries.len());
    for s in &summaries {
        ensure!(
            s.state == Some(TrialConditionType::Succeeded),
            "{}: {:?}",
            s.name,
            s.state
        );
        ensure!(
            s.metrics.iter().any(|m| m.name.as_deref() == Some("loss")),
            "{}: no loss",
            s.name
        );
    }
    let a = summaries
        .iter()
        .find(|s| s.name == "lr-search-aaaaaaaa")
        .context("trial a missing")?;
    ensure!(a.parameters.get("optimizer").map(String::as_str) == Some("adam"));
    let sug = katib.suggestion("lr-search").await?;
    ensure!(sug.status.and_then(|s| s.suggestion_count) == Some(2));
    ensure!(katib.list_suggestions().await?.len() == 1);

    // Restart: succeeded by reaching max trials with LongRunning → allowed with more trials.
    let restarted = katib.restart("lr-search", 4).await?;
    ensure!(restarted.spec.max_trial_count == Some(4));
    match katib.restart("lr-search", 2).await {
        Err(Error::NotAllowed { message, .. }) => ensure!(
            message.contains("greater than status.trials (2)"),
            "{message}"
        ),
        other => bail!("restart to 2 trials should be refused, got {other:?}"),
    }

    // Delete.
    katib.delete("lr-search").await?;
    let mut gone = false;
    for _ in 0..50 {
        match katib.get("lr-search").await {
            Err(e) if e.is_not_found() => {
                gone = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    ensure!(gone, "the experiment was not deleted");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn failed_experiment_ends_the_wait_with_its_reason() -> anyhow::Result<()> {
    let (client, ns) = setup("fail").await?;
    let katib = KatibClient::new(client.clone(), &ns);
    katib.create(&experiment("doomed")?).await?;
    let waiter = tokio::spawn(
        katib
            .wait("doomed")
            .timeout(Duration::from_secs(60))
            .into_future(),
    );
    let experiments: Api<Experiment> = Api::namespaced(client.clone(), &ns);
    patch_status(&experiments, "doomed", json!({
        "conditions": [condition("Created", "True", "ExperimentCreated", "Experiment is created"),
                       condition("Running", "False", "ExperimentRunning", "Experiment is running"),
                       condition("Failed", "True", "ExperimentMaxFailedTrialsReached",
                                 "Experiment has failed because max failed count has reached")],
        "trials": 2, "trialsFailed": 2
    })).await?;
    match waiter.await? {
        Err(Error::ExperimentFailed {
            reason,
            message,
            name,
            namespace,
        }) => {
            ensure!(reason == "ExperimentMaxFailedTrialsReached", "{reason}");
            ensure!(
                message == "Experiment has failed because max failed count has reached",
                "{message}"
            );
            ensure!(name == "doomed" && namespace == ns);
        }
        other => bail!("expected ExperimentFailed, got {other:?}"),
    }
    // Waiting for Failed succeeds.
    let failed = katib
        .wait("doomed")
        .until(ExperimentConditionType::Failed)
        .timeout(Duration::from_secs(30))
        .await?;
    ensure!(failed.is_failed());
    // The same as a stream: progress, then the experiment.
    let events: Vec<_> = katib
        .wait("doomed")
        .until(ExperimentConditionType::Failed)
        .timeout(Duration::from_secs(30))
        .stream()
        .collect()
        .await;
    match events.as_slice() {
        [Ok(WaitEvent::Progress(p)), Ok(WaitEvent::Done(Some(exp)))] => {
            ensure!(
                p.phase == Some(ExperimentConditionType::Failed) && p.failed == 2,
                "{p:?}"
            );
            ensure!(exp.is_failed());
        }
        other => bail!("unexpected stream: {other:?}"),
    }
    // Waiting for an experiment that does not exist fails at once.
    match katib
        .wait("no-such-experiment")
        .timeout(Duration::from_secs(30))
        .await
    {
        Err(e) if e.is_not_found() => {}
        other => bail!("expected not found, got {other:?}"),
    }
    // A deadline ends a wait that cannot be satisfied.
    katib.create(&experiment("idle")?).await?;
    match katib.wait("idle").timeout(Duration::from_secs(2)).await {
        Err(Error::Wait(e)) => ensure!(e.to_string().contains("gave up waiting"), "{e}"),
        other => bail!("expected a deadline, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn reference_examples_round_trip_through_the_api_server() -> anyhow::Result<()> {
    let (client, ns) = setup("ref").await?;
    let katib = KatibClient::new(client.clone(), &ns);
    let dir = reference_dir().join("katib/examples");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)?;
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(&text).with_context(|| path.display().to_string())?;
        for doc in docs
            .into_iter()
            .filter(|d| d.get("kind").and_then(Value::as_str) == Some("Experiment"))
        {
            let mut exp: Experiment = serde_json::from_value(doc.clone())?;
            exp.metadata.namespace = None;
            let created = katib
                .create(&exp)
                .await
                .with_context(|| path.display().to_string())?;
            let back = serde_json::to_value(
                &katib
                    .get(&created.metadata.name.clone().unwrap_or_default())
                    .await?
                    .spec,
            )?;
            ensure!(
                back == doc["spec"],
                "{}: the spec changed through the API server",
                path.display()
            );
            count += 1;
        }
    }
    ensure!(count >= 5, "only {count} examples");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn a_server_side_rejection_is_surfaced_verbatim() -> anyhow::Result<()> {
    // A ValidatingAdmissionPolicy stands in for Katib's webhook: the API server refuses the
    // object and the client must show the server's message as it is.
    let (client, ns) = setup("vap").await?;
    let katib = KatibClient::new(client.clone(), &ns);
    let policy_name = format!("katib-budget-{}", ns);
    let message =
        "spec.maxTrialCount: Invalid value: budget too large for this namespace (max 100)";
    let dynamic = |kind: &str, plural: &str| {
        let ar = kube::api::ApiResource {
            group: "admissionregistration.k8s.io".into(),
            version: "v1".into(),
            api_version: "admissionregistration.k8s.io/v1".into(),
            kind: kind.into(),
            plural: plural.into(),
        };
        Api::<kube::api::DynamicObject>::all_with(client.clone(), &ar)
    };
    let policy: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": policy_name},
        "spec": {"failurePolicy": "Fail",
                 "matchConstraints": {"resourceRules": [{"apiGroups": ["kubeflow.org"], "apiVersions": ["v1beta1"],
                                      "operations": ["CREATE", "UPDATE"], "resources": ["experiments"]}]},
                 "validations": [{"expression": "!has(object.spec.maxTrialCount) || object.spec.maxTrialCount <= 100",
                                  "message": message}]}
    }))?;
    let binding: kube::api::DynamicObject = serde_json::from_value(json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": policy_name},
        "spec": {"policyName": policy_name, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}}
    }))?;
    let policies = dynamic("ValidatingAdmissionPolicy", "validatingadmissionpolicies");
    let bindings = dynamic(
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
    );
    policies.create(&PostParams::default(), &policy).await?;
    bindings.create(&PostParams::default(), &binding).await?;

    let mut big = experiment("too-big")?;
    big.spec.max_trial_count = Some(500);
    big.spec.max_failed_trial_count = Some(1);
    // The policy takes effect once the API server has loaded it: retry, bounded.
    let mut outcome = None;
    for _ in 0..50 {
        match katib.create(&big).await {
            Err(e @ Error::Rejected { .. }) => {
                outcome = Some(e);
                break;
            }
            Ok(_) => {
                katib.delete("too-big").await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => bail!("unexpected error: {e}"),
        }
    }
    let _ = bindings
        .delete(&policy_name, &DeleteParams::default())
        .await;
    let _ = policies
        .delete(&policy_name, &DeleteParams::default())
        .await;
    match outcome {
        Some(Error::Rejected {
            message: m, code, ..
        }) => {
            ensure!(
                m.contains(message),
                "the server's message was not kept verbatim: {m}"
            );
            ensure!(code == 422, "code {code}");
        }
        other => bail!("the policy never rejected the experiment: {other:?}"),
    }
    Ok(())
}
