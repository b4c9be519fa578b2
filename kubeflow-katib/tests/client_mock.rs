//! `KatibClient` against a mock API server (wiremock): the webhook's message surfaced verbatim,
//! budget edits as merge patches, restarts refused before anything is sent, namespace checks.

use kubeflow_katib::{
    Error, ExperimentBuilder, KatibClient, ObjectiveType, TrialTemplateBuilder, search,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn client(server: &MockServer) -> anyhow::Result<KatibClient> {
    let config = kube::Config::new(server.uri().parse()?);
    Ok(KatibClient::new(kube::Client::try_from(config)?, "team"))
}

/// Fails loudly on any request no other mock expected.
async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(599)
                .set_body_string(format!("unexpected request {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .expect(0)
        .mount(server)
        .await;
}

fn experiment() -> anyhow::Result<kubeflow_katib::Experiment> {
    Ok(ExperimentBuilder::new("exp")
        .objective(ObjectiveType::Minimize, "loss")
        .algorithm("random")
        .parameter("lr", search::double(0.1, 0.2))
        .trial_template(TrialTemplateBuilder::job("img").command(["t", "${trialParameters.lr}"]))
        .max_trial_count(3)
        .parallel_trial_count(1)
        .build()?)
}

fn stored(extra_status: Value, resume: &str) -> Value {
    json!({
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
        "metadata": {"name": "exp", "namespace": "team", "resourceVersion": "5"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"},
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.2"}}],
            "trialTemplate": {"primaryContainerName": "c", "trialParameters": [{"name": "lr", "reference": "lr"}],
                              "trialSpec": {"apiVersion": "batch/v1", "kind": "Job",
                                            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i", "args": ["${trialParameters.lr}"]}]}}}}},
            "maxTrialCount": 3, "parallelTrialCount": 1, "resumePolicy": resume
        },
        "status": extra_status
    })
}

#[tokio::test]
async fn create_surfaces_the_webhook_message_verbatim() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let message = "admission webhook \"validator.experiment.katib.kubeflow.org\" denied the request: \
                   spec.algorithm.algorithmName: Invalid value: \"random\": unable to get Suggestion config data for algorithm random";
    Mock::given(method("POST"))
        .and(path(
            "/apis/kubeflow.org/v1beta1/namespaces/team/experiments",
        ))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": "BadRequest", "code": 400
        })))
        .expect(1)
        .mount(&server)
        .await;
    let katib = client(&server).await?;
    let err = katib.create(&experiment()?).await.err();
    match err {
        Some(Error::Rejected {
            message: m,
            code,
            reason,
            experiment,
            ..
        }) => {
            assert_eq!(m, message);
            assert_eq!(
                (code, reason.as_str(), experiment.as_str()),
                (400, "BadRequest", "team/exp")
            );
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn invalid_experiments_are_not_sent() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let katib = client(&server).await?;
    let mut exp = experiment()?;
    exp.spec.max_trial_count = Some(0);
    match katib.create(&exp).await {
        Err(Error::Invalid(e)) => assert!(
            e.to_string()
                .contains("spec.maxTrialCount: must be greater than 0"),
            "{e}"
        ),
        other => panic!("expected Invalid, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn edit_budget_sends_a_merge_patch_of_the_budget_only() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let url = "/apis/kubeflow.org/v1beta1/namespaces/team/experiments/exp";
    Mock::given(method("GET"))
        .and(path(url))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(stored(json!({"trials": 1}), "Never")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut patched = stored(json!({"trials": 1}), "Never");
    patched["spec"]["maxTrialCount"] = json!(10);
    patched["spec"]["parallelTrialCount"] = json!(2);
    Mock::given(method("PATCH"))
        .and(path(url))
        .and(header("content-type", "application/merge-patch+json"))
        .and(body_json(
            json!({"spec": {"maxTrialCount": 10, "parallelTrialCount": 2}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(patched))
        .expect(1)
        .mount(&server)
        .await;
    let katib = client(&server).await?;
    let exp = katib
        .edit_budget("exp")
        .max_trial_count(10)
        .parallel_trial_count(2)
        .send()
        .await?;
    assert_eq!(exp.spec.max_trial_count, Some(10));

    // Inconsistent budgets are refused before the patch.
    let server2 = MockServer::start().await;
    catch_all(&server2).await;
    Mock::given(method("GET"))
        .and(path(url))
        .respond_with(ResponseTemplate::new(200).set_body_json(stored(json!({}), "Never")))
        .mount(&server2)
        .await;
    let katib = client(&server2).await?;
    match katib.edit_budget("exp").parallel_trial_count(7).send().await {
        Err(Error::Invalid(e)) => assert!(e.to_string().contains("spec.parallelTrialCount: should be less than or equal to spec.maxTrialCount (7 > 3)"), "{e}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(
        katib.edit_budget("exp").send().await.is_err(),
        "no field given"
    );
    Ok(())
}

fn succeeded(reason: &str) -> Value {
    json!({"trials": 3, "trialsSucceeded": 3, "conditions": [
        {"type": "Succeeded", "status": "True", "reason": reason, "message": "done"}]})
}

#[tokio::test]
async fn restart_is_refused_when_katib_would_refuse_it() -> anyhow::Result<()> {
    let url = "/apis/kubeflow.org/v1beta1/namespaces/team/experiments/exp";
    let cases = [
        (
            succeeded("ExperimentMaxTrialsReached"),
            "Never",
            10,
            "resume policy Never",
        ),
        (
            succeeded("ExperimentGoalReached"),
            "LongRunning",
            10,
            "succeeded with reason ExperimentGoalReached",
        ),
        (
            succeeded("ExperimentMaxTrialsReached"),
            "LongRunning",
            3,
            "must be greater than status.trials (3)",
        ),
        (json!({"trials": 1}), "LongRunning", 10, "is not completed"),
    ];
    for (status, policy, max, text) in cases {
        let server = MockServer::start().await;
        catch_all(&server).await;
        Mock::given(method("GET"))
            .and(path(url))
            .respond_with(ResponseTemplate::new(200).set_body_json(stored(status, policy)))
            .mount(&server)
            .await;
        let katib = client(&server).await?;
        match katib.restart("exp", max).await {
            Err(Error::NotAllowed { message, .. }) => {
                assert!(message.contains(text), "{message:?} lacks {text:?}")
            }
            other => panic!("expected NotAllowed ({text}), got {other:?}"),
        }
    }
    // Allowed: patched.
    let server = MockServer::start().await;
    catch_all(&server).await;
    let st = stored(succeeded("ExperimentMaxTrialsReached"), "LongRunning");
    Mock::given(method("GET"))
        .and(path(url))
        .respond_with(ResponseTemplate::new(200).set_body_json(st.clone()))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(url))
        .and(body_json(json!({"spec": {"maxTrialCount": 6}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(st))
        .expect(1)
        .mount(&server)
        .await;
    client(&server).await?.restart("exp", 6).await?;
    Ok(())
}

#[tokio::test]
async fn namespace_check_says_what_is_missing() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("GET")).and(path("/api/v1/namespaces/team"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team", "labels": {"other": "x"}}})))
        .mount(&server).await;
    let check = client(&server).await?.check_namespace(None).await?;
    assert!(!check.is_ready());
    assert_eq!(
        check.to_string(),
        "namespace team lacks the label katib.kubeflow.org/metrics-collector-injection=enabled, so Katib will not \
         collect trial metrics there; add it with `kubectl label namespace team \
         katib.kubeflow.org/metrics-collector-injection=enabled --overwrite` (Kubeflow Profiles add it to user namespaces)"
    );
    Ok(())
}
