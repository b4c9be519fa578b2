//! Experiments built by the builder and by `Tune`, snapshotted (insta), and the categorical
//! parameter written into `feasibleSpace.list`.

use kubeflow_katib::{
    ExperimentBuilder, FileFormat, MetricStrategyType, MetricsCollectorSpec, ObjectiveType,
    ResumePolicy, TrialTemplateBuilder, Tune, search,
};
use serde_json::json;

#[test]
fn categorical_goes_into_list_not_distribution() -> anyhow::Result<()> {
    let p = search::categorical(["sgd", "adam"]).into_parameter("optimizer");
    assert_eq!(
        serde_json::to_value(&p)?,
        json!({"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}})
    );
    let d = search::discrete([16, 32]).into_parameter("batch");
    assert_eq!(
        serde_json::to_value(&d)?,
        json!({"name": "batch", "parameterType": "discrete", "feasibleSpace": {"list": ["16", "32"]}})
    );
    let lr = search::double(0.001, 0.1)
        .log_uniform()
        .step(0.001)
        .into_parameter("lr");
    assert_eq!(
        serde_json::to_value(&lr)?,
        json!({"name": "lr", "parameterType": "double",
               "feasibleSpace": {"min": "0.001", "max": "0.1", "step": "0.001", "distribution": "logUniform"}})
    );
    Ok(())
}

#[test]
fn job_experiment_snapshot() -> anyhow::Result<()> {
    let exp = ExperimentBuilder::new("mnist-random")
        .namespace("kubeflow-user")
        .label("team", "vision")
        .objective(ObjectiveType::Maximize, "accuracy")
        .goal(0.99)
        .additional_metric("loss")
        .metric_strategy("loss", MetricStrategyType::Latest)
        .algorithm("bayesianoptimization")
        .algorithm_setting("random_state", 10)
        .early_stopping(
            "medianstop",
            [("min_trials_required", 2), ("start_step", 4)],
        )
        .parameter("lr", search::double(0.01, 0.05))
        .parameter("layers", search::int(2, 5))
        .parameter("optimizer", search::categorical(["sgd", "adam", "ftrl"]))
        .trial_template(
            TrialTemplateBuilder::job("ghcr.io/kubeflow/katib/pytorch-mnist-cpu:v0.19.0")
                .command([
                    "python3",
                    "/opt/mnist.py",
                    "--lr=${trialParameters.lr}",
                    "--layers=${trialParameters.layers}",
                    "--optimizer=${trialParameters.optimizer}",
                ])
                .env("EPOCHS", "1")
                .resource("cpu", "500m")
                .resource("memory", "1Gi")
                .retain(true),
        )
        .metrics_collector(
            MetricsCollectorSpec::file("/var/log/katib/metrics.log", FileFormat::Text)
                .filter(["([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?)"]),
        )
        .max_trial_count(12)
        .parallel_trial_count(3)
        .max_failed_trial_count(3)
        .resume_policy(ResumePolicy::LongRunning)
        .build()?;
    insta::assert_yaml_snapshot!("job_experiment", exp);
    Ok(())
}

#[test]
fn training_operator_and_trainjob_templates_snapshot() -> anyhow::Result<()> {
    let base = || {
        ExperimentBuilder::new("dist")
            .objective(ObjectiveType::Minimize, "loss")
            .algorithm("tpe")
            .parameter("lr", search::double(0.01, 0.05))
            .max_trial_count(4)
    };
    let pytorch = base()
        .trial_template(TrialTemplateBuilder::pytorch_job("pt:1", 2).command([
            "torchrun",
            "train.py",
            "--lr=${trialParameters.lr}",
        ]))
        .build()?;
    insta::assert_yaml_snapshot!("pytorchjob_experiment", pytorch);
    let tf = base()
        .trial_template(
            TrialTemplateBuilder::tf_job("tf:1", 1).args(["--lr=${trialParameters.lr}"]),
        )
        .build()?;
    insta::assert_yaml_snapshot!("tfjob_template", tf.spec.trial_template);
    let train = base()
        .trial_template(
            TrialTemplateBuilder::train_job("torch-distributed", "pt:1", 2)
                .command(["torchrun", "train.py", "--lr=${trialParameters.lr}"])
                .resource("nvidia.com/gpu", "1"),
        )
        .build()?;
    insta::assert_yaml_snapshot!("trainjob_template", train.spec.trial_template);
    Ok(())
}

#[test]
fn tune_snapshot() -> anyhow::Result<()> {
    // The Python SDK's documented tune() call, as the Rust equivalent.
    let exp = Tune::new("tune-experiment", "docker.io/library/python:3.12-slim")
        .namespace("kubeflow-user-example-com")
        .command([
            "python3",
            "-c",
            "a=${trialParameters.a}; b=${trialParameters.b}; print(f'result={4*a-b**2}')",
        ])
        .parameter("a", search::int(10, 20))
        .parameter("b", search::double(0.1, 0.2))
        .objective(ObjectiveType::Maximize, "result")
        .max_trial_count(12)
        .resource("cpu", "2")
        .build()?;
    assert_eq!(
        exp.spec
            .metrics_collector_spec
            .as_ref()
            .and_then(|m| m.kind().cloned()),
        None,
        "StdOut is the webhook's default: nothing written"
    );
    insta::assert_yaml_snapshot!("tune_experiment", exp);
    Ok(())
}

#[test]
fn a_typed_kubernetes_job_as_trial_template() -> anyhow::Result<()> {
    use k8s_openapi::api::batch::v1::Job;
    use kubeflow_katib::TrialJob;

    let job: Job = serde_json::from_value(json!({
        "metadata": {"labels": {"app": "train"}},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [{
            "name": "trainer", "image": "img", "args": ["--lr=${trialParameters.lr}"]}]}}}
    }))?;
    let trial_job = TrialJob::from_object(&job)?;
    assert_eq!(
        (trial_job.api_version(), trial_job.kind()),
        (Some("batch/v1"), Some("Job"))
    );
    let exp = ExperimentBuilder::new("typed-job")
        .objective(ObjectiveType::Minimize, "loss")
        .algorithm("random")
        .parameter("lr", search::double(0.1, 0.2))
        .trial_template(TrialTemplateBuilder::custom(trial_job, "trainer"))
        .build()?;
    let template = exp.spec.trial_template.unwrap_or_default();
    let back: Job = template.trial_spec.unwrap_or_default().to_object()?;
    assert_eq!(back.spec.and_then(|s| s.backoff_limit), Some(0));
    assert_eq!(template.primary_container_name.as_deref(), Some("trainer"));
    Ok(())
}
