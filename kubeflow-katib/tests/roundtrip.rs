//! Every reference Katib example, and hand-written objects with status and unknown fields,
//! round-trip through the typed structs without losing or changing anything.

mod common;

use kubeflow_katib::{
    AlgorithmName, CollectorKind, Experiment, ExperimentConditionType, ParameterType, Suggestion,
    Trial, TrialConditionType, validate_experiment,
};
use serde_json::{Value, json};

fn roundtrip<T: serde::de::DeserializeOwned + serde::Serialize>(
    input: &Value,
) -> anyhow::Result<Value> {
    let typed: T = serde_path_to_error_free(input)?;
    Ok(serde_json::to_value(&typed)?)
}

fn serde_path_to_error_free<T: serde::de::DeserializeOwned>(input: &Value) -> anyhow::Result<T> {
    Ok(serde_json::from_value(input.clone())?)
}

#[test]
fn every_reference_example_round_trips_and_validates() -> anyhow::Result<()> {
    let dir = common::reference_dir().join("katib/examples");
    let mut seen = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        for doc in common::yaml_documents(&path)? {
            if doc.get("kind").and_then(Value::as_str) != Some("Experiment") {
                continue;
            }
            seen += 1;
            if roundtrip::<Experiment>(&doc)? != doc {
                failures.push(format!("{}: does not round-trip", path.display()));
                continue;
            }
            // The upstream examples are valid experiments.
            let exp: Experiment = serde_json::from_value(doc.clone())?;
            if let Err(e) = validate_experiment(&exp) {
                failures.push(format!("{}: {e}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        seen >= 5,
        "expected the 5 reference examples in {}, saw {seen}",
        dir.display()
    );
    Ok(())
}

fn experiment_with_status() -> Value {
    json!({
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "random", "namespace": "kubeflow", "uid": "1234",
                     "resourceVersion": "77", "creationTimestamp": "2026-01-02T03:04:05Z",
                     "generation": 2, "finalizers": ["update-prometheus-metrics"]},
        "spec": {
            "objective": {"type": "maximize", "goal": 1, "objectiveMetricName": "acc",
                          "additionalMetricNames": [],
                          "metricStrategies": [{"name": "acc", "value": "max"}],
                          "futureObjectiveField": {"x": 1}},
            "algorithm": {"algorithmName": "cmaes-v2", "algorithmSettings": [{"name": "sigma", "value": "0.5"}]},
            "earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "start_step", "value": "4"}]},
            "parallelTrialCount": 3, "maxTrialCount": 12, "maxFailedTrialCount": 3,
            "resumePolicy": "LongRunning",
            "metricsCollectorSpec": {"collector": {"kind": "None"},
                                     "source": {"httpGet": {"port": "metrics", "path": "/m", "futureField": true}}},
            "parameters": [
                {"name": "lr", "parameterType": "double",
                 "feasibleSpace": {"min": "0.01", "max": "0.05", "step": "0.01", "distribution": "logUniform"}},
                {"name": "opt", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
                {"name": "n", "parameterType": "quantum", "feasibleSpace": {"list": ["1"], "newKnob": 3}}
            ],
            "trialTemplate": {
                "retain": false, "primaryContainerName": "c",
                "primaryPodLabels": {"role": "master"},
                "successCondition": "status.conditions.#(type==\"Done\")#|#(status==\"True\")#",
                "failureCondition": "status.conditions.#(type==\"Failed\")#|#(status==\"True\")#",
                "trialParameters": [{"name": "lr", "reference": "lr", "description": "d"}],
                "trialSpec": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                              "spec": {"entrypoint": "main", "templates": [{"name": "main",
                                       "container": {"name": "c", "image": "i", "args": ["${trialParameters.lr}"]}}]}}
            },
            "someFutureSpecField": [1, 2.5, "x"]
        },
        "status": {
            "startTime": "2026-01-02T03:04:05Z",
            "completionTime": "2026-01-02T04:04:05Z",
            "lastReconcileTime": "2026-01-02T04:04:05Z",
            "conditions": [
                {"type": "Created", "status": "True", "reason": "ExperimentCreated", "message": "Experiment is created",
                 "lastUpdateTime": "2026-01-02T03:04:05Z", "lastTransitionTime": "2026-01-02T03:04:05Z"},
                {"type": "Running", "status": "False", "reason": "ExperimentRunning", "message": "Experiment is running",
                 "lastUpdateTime": "2026-01-02T03:05:05Z", "lastTransitionTime": "2026-01-02T03:05:05Z"},
                {"type": "Succeeded", "status": "True", "reason": "ExperimentMaxTrialsReached",
                 "message": "Experiment has succeeded because max trial count has reached",
                 "lastUpdateTime": "2026-01-02T04:04:05Z", "lastTransitionTime": "2026-01-02T04:04:05Z"}
            ],
            "currentOptimalTrial": {
                "bestTrialName": "random-abcdefgh",
                "parameterAssignments": [{"name": "lr", "value": "0.0213"}, {"name": "opt", "value": "adam"}],
                "observation": {"metrics": [{"name": "acc", "min": "0.5", "max": "0.97", "latest": "0.97"},
                                            {"name": "loss", "min": "unavailable", "max": "unavailable", "latest": "unavailable"}]}
            },
            "succeededTrialList": ["random-abcdefgh"], "failedTrialList": [], "runningTrialList": [],
            "pendingTrialList": [], "killedTrialList": [], "earlyStoppedTrialList": ["random-x"],
            "metricsUnavailableTrialList": [],
            "trials": 12, "trialsSucceeded": 11, "trialsEarlyStopped": 1
        }
    })
}

#[test]
fn experiment_with_status_and_unknown_fields_round_trips() -> anyhow::Result<()> {
    let input = experiment_with_status();
    assert_eq!(roundtrip::<Experiment>(&input)?, input);

    let exp: Experiment = serde_json::from_value(input)?;
    assert!(exp.is_succeeded());
    assert!(!exp.is_running(), "Running=False must not count");
    assert!(exp.has_condition(ExperimentConditionType::Created));
    let best = exp
        .optimal_trial()
        .map(|t| t.parameters())
        .unwrap_or_default();
    assert_eq!(best.get("opt").map(String::as_str), Some("adam"));
    let acc = exp
        .optimal_trial()
        .and_then(|t| t.metric("acc"))
        .and_then(|m| m.latest_value());
    assert_eq!(acc, Some(0.97));
    let loss = exp
        .optimal_trial()
        .and_then(|t| t.metric("loss"))
        .and_then(|m| m.latest_value());
    assert_eq!(loss, None, "\"unavailable\" is not a number");
    let spec = &exp.spec;
    assert_eq!(
        spec.algorithm
            .as_ref()
            .and_then(|a| a.algorithm_name.clone()),
        Some(AlgorithmName::Unknown("cmaes-v2".into()))
    );
    assert_eq!(
        spec.metrics_collector_spec
            .as_ref()
            .and_then(|m| m.kind().cloned()),
        Some(CollectorKind::None)
    );
    let params = spec.parameters.as_deref().unwrap_or_default();
    assert_eq!(
        params[2].parameter_type,
        Some(ParameterType::Unknown("quantum".into()))
    );
    assert!(spec.extra.contains_key("someFutureSpecField"));
    Ok(())
}

#[test]
fn read_modify_write_keeps_unknown_fields() -> anyhow::Result<()> {
    let input = experiment_with_status();
    let mut exp: Experiment = serde_json::from_value(input.clone())?;
    exp.spec.max_trial_count = Some(20);
    let mut expected = input;
    expected["spec"]["maxTrialCount"] = json!(20);
    assert_eq!(serde_json::to_value(&exp)?, expected);
    Ok(())
}

#[test]
fn trial_and_suggestion_round_trip() -> anyhow::Result<()> {
    let trial = json!({
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
        "metadata": {"name": "random-abcdefgh", "namespace": "kubeflow",
                     "labels": {"katib.kubeflow.org/experiment": "random"},
                     "ownerReferences": [{"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "name": "random",
                                          "uid": "1234", "controller": true, "blockOwnerDeletion": true}]},
        "spec": {
            "objective": {"type": "minimize", "goal": 0.001, "objectiveMetricName": "loss",
                          "metricStrategies": [{"name": "loss", "value": "min"}]},
            "parameterAssignments": [{"name": "lr", "value": "0.02"}],
            "earlyStoppingRules": [{"name": "loss", "value": "0.5", "comparison": "less", "startStep": 4}],
            "runSpec": {"apiVersion": "batch/v1", "kind": "Job",
                        "metadata": {"name": "random-abcdefgh", "namespace": "kubeflow"},
                        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}], "restartPolicy": "Never"}}}},
            "retainRun": true,
            "metricsCollector": {"collector": {"kind": "StdOut"}},
            "primaryContainerName": "c",
            "successCondition": "s", "failureCondition": "f",
            "labels": {"a": "b"}
        },
        "status": {
            "startTime": "2026-01-02T03:04:05Z",
            "completionTime": "2026-01-02T03:14:05Z",
            "conditions": [
                {"type": "Created", "status": "True", "reason": "TrialCreated", "message": "Trial is created",
                 "lastUpdateTime": "2026-01-02T03:04:05Z", "lastTransitionTime": "2026-01-02T03:04:05Z"},
                {"type": "Running", "status": "False", "reason": "TrialRunning", "message": "Trial is running",
                 "lastUpdateTime": "2026-01-02T03:04:05Z", "lastTransitionTime": "2026-01-02T03:04:05Z"},
                {"type": "EarlyStopped", "status": "True", "reason": "TrialEarlyStopped", "message": "early stopped",
                 "lastUpdateTime": "2026-01-02T03:14:05Z", "lastTransitionTime": "2026-01-02T03:14:05Z"}
            ],
            "observation": {"metrics": [{"name": "loss", "min": "0.3", "max": "0.9", "latest": "0.31"}]}
        }
    });
    assert_eq!(roundtrip::<Trial>(&trial)?, trial);
    let t: Trial = serde_json::from_value(trial)?;
    assert_eq!(t.state(), Some(TrialConditionType::EarlyStopped));
    assert_eq!(t.metrics().len(), 1);

    let suggestion = json!({
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Suggestion",
        "metadata": {"name": "random", "namespace": "kubeflow"},
        "spec": {"algorithm": {"algorithmName": "hyperband", "algorithmSettings": [{"name": "r_l", "value": "9"}]},
                 "requests": 3, "resumePolicy": "Never"},
        "status": {
            "algorithmSettings": [{"name": "s_max", "value": "2"}],
            "suggestionCount": 3,
            "suggestions": [{"name": "random-abcdefgh", "parameterAssignments": [{"name": "lr", "value": "0.02"}],
                             "labels": {"x": "y"}, "earlyStoppingRules": []}],
            "startTime": "2026-01-02T03:04:05Z",
            "conditions": [{"type": "DeploymentReady", "status": "True", "reason": "DeploymentReady",
                            "message": "Deployment is ready",
                            "lastUpdateTime": "2026-01-02T03:04:05Z", "lastTransitionTime": "2026-01-02T03:04:05Z"}]
        }
    });
    assert_eq!(roundtrip::<Suggestion>(&suggestion)?, suggestion);
    Ok(())
}

#[test]
fn progress_reports_the_strategy_value_of_the_best_trial() -> anyhow::Result<()> {
    let exp: Experiment = serde_json::from_value(experiment_with_status())?;
    let p = kubeflow_katib::ExperimentProgress::of(&exp);
    assert_eq!(p.phase, Some(ExperimentConditionType::Succeeded));
    assert_eq!((p.trials, p.succeeded, p.early_stopped), (12, 11, 1));
    // Maximize with strategy max for `acc`: the max value counts.
    assert_eq!(p.best_value.as_deref(), Some("0.97"));
    assert_eq!(
        p.to_string(),
        "Succeeded: 12 trials (0 running, 0 pending, 11 succeeded, 0 failed, 1 early-stopped); best acc=0.97 (random-abcdefgh)"
    );
    assert_eq!(
        kubeflow_katib::ExperimentProgress::default().to_string(),
        "Pending: 0 trials (0 running, 0 pending, 0 succeeded, 0 failed)"
    );
    Ok(())
}
