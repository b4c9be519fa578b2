//! Each rule of Katib's admission webhook, checked client-side, with the error text asserted.

use kubeflow_katib::{
    ConfigMapSource, Experiment, ExperimentBuilder, FileFormat, MetricsCollectorSpec,
    ObjectiveType, ResumePolicy, TrialJob, TrialTemplateBuilder, ValidationErrors, search,
    validate_experiment,
};
use serde_json::json;

/// A valid experiment to break one rule at a time.
fn base() -> ExperimentBuilder {
    ExperimentBuilder::new("valid-exp")
        .namespace("ns")
        .objective(ObjectiveType::Minimize, "loss")
        .algorithm("random")
        .parameter("lr", search::double(0.01, 0.05))
        .parameter("opt", search::categorical(["sgd", "adam"]))
        .trial_template(TrialTemplateBuilder::job("img").command([
            "train",
            "--lr=${trialParameters.lr}",
            "--opt=${trialParameters.opt}",
        ]))
        .max_trial_count(4)
        .parallel_trial_count(2)
        .max_failed_trial_count(1)
}

fn errors(exp: &Experiment) -> ValidationErrors {
    match validate_experiment(exp) {
        Ok(()) => panic!("expected validation errors for {exp:?}"),
        Err(e) => e,
    }
}

/// Asserts that `field` has an error whose message contains `text`.
fn assert_error(e: &ValidationErrors, field: &str, text: &str) {
    let found = e
        .errors
        .iter()
        .any(|x| x.field == field && x.message.contains(text));
    assert!(found, "no error on {field} containing {text:?}; got: {e}");
}

#[test]
fn the_base_experiment_is_valid() {
    let exp = base().build();
    assert!(exp.is_ok(), "{:?}", exp.err());
}

#[test]
fn name_rules() {
    let long = "a".repeat(41);
    let e = errors(
        &ExperimentBuilder::new(long)
            .objective(ObjectiveType::Minimize, "m")
            .build_unchecked(),
    );
    assert_error(
        &e,
        "metadata.name",
        "must be no more than 40 characters (it has 41)",
    );
    let ok40 = base().build_unchecked();
    let mut exp40 = ok40.clone();
    exp40.metadata.name = Some("a".repeat(40));
    assert!(validate_experiment(&exp40).is_ok());

    let mut bad = ok40.clone();
    bad.metadata.name = Some("Bad_Name".into());
    assert_error(
        &errors(&bad),
        "metadata.name",
        "lower case alphanumeric characters or '-'",
    );
    bad.metadata.name = Some("ends-with-".into());
    assert_error(
        &errors(&bad),
        "metadata.name",
        "end with an alphanumeric character",
    );
    bad.metadata.name = None;
    assert_error(&errors(&bad), "metadata.name", "must be specified");
    bad.metadata.generate_name = Some("a".repeat(36));
    assert_error(
        &errors(&bad),
        "metadata.generateName",
        "no more than 35 characters",
    );
    bad.metadata.generate_name = Some("gen-".into());
    assert!(validate_experiment(&bad).is_ok());
}

#[test]
fn budget_rules() {
    let e = errors(
        &base()
            .max_trial_count(0)
            .parallel_trial_count(1)
            .max_failed_trial_count(0)
            .build_unchecked(),
    );
    assert_error(&e, "spec.maxTrialCount", "must be greater than 0");
    let e = errors(&base().parallel_trial_count(0).build_unchecked());
    assert_error(&e, "spec.parallelTrialCount", "must be greater than 0");
    let e = errors(&base().max_failed_trial_count(-1).build_unchecked());
    assert_error(&e, "spec.maxFailedTrialCount", "should not be less than 0");
    let e = errors(&base().max_failed_trial_count(5).build_unchecked());
    assert_error(
        &e,
        "spec.maxFailedTrialCount",
        "should be less than or equal to spec.maxTrialCount (5 > 4)",
    );
    let e = errors(&base().parallel_trial_count(5).build_unchecked());
    assert_error(
        &e,
        "spec.parallelTrialCount",
        "should be less than or equal to spec.maxTrialCount (5 > 4)",
    );
}

#[test]
fn objective_and_algorithm_rules() {
    let mut exp = base().build_unchecked();
    exp.spec.objective = None;
    assert_error(&errors(&exp), "spec.objective", "must be specified");

    let mut exp = base().build_unchecked();
    if let Some(o) = exp.spec.objective.as_mut() {
        o.type_ = Some(ObjectiveType::from("biggest"));
        o.objective_metric_name = None;
    }
    let e = errors(&exp);
    assert_error(
        &e,
        "spec.objective.type",
        "must be minimize or maximize (got \"biggest\")",
    );
    assert_error(
        &e,
        "spec.objective.objectiveMetricName",
        "must be specified",
    );

    let e = errors(&base().additional_metric("loss").build_unchecked());
    assert_error(
        &e,
        "spec.objective.additionalMetricNames",
        "should not contain spec.objective.objectiveMetricName (loss)",
    );

    let mut exp = base().build_unchecked();
    exp.spec.algorithm = None;
    assert_error(&errors(&exp), "spec.algorithm", "must be specified");
    let e = errors(&base().algorithm("").build_unchecked());
    assert_error(&e, "spec.algorithm.algorithmName", "must be specified");
    // Unknown algorithm names are cluster configuration: accepted.
    assert!(base().algorithm("my-own-algo").build().is_ok());

    let e = errors(
        &base()
            .early_stopping("", [("start_step", 4)])
            .build_unchecked(),
    );
    assert_error(&e, "spec.earlyStopping.algorithmName", "must be specified");

    let e = errors(
        &base()
            .resume_policy(ResumePolicy::from("Sometimes"))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.resumePolicy",
        "invalid ResumePolicyType \"Sometimes\"",
    );
}

#[test]
fn parameter_rules() {
    let mut exp = base().build_unchecked();
    exp.spec.parameters = None;
    let e = errors(&exp);
    assert_error(
        &e,
        "spec",
        "spec.parameters or spec.nasConfig must be specified",
    );

    let mut exp = base().build_unchecked();
    exp.spec.nas_config = Some(Default::default());
    assert_error(
        &errors(&exp),
        "spec",
        "only one of spec.parameters and spec.nasConfig can be specified",
    );

    // A double with a list, an int without max, a categorical with min, bounds reversed.
    let mut exp = base().build_unchecked();
    let params = exp.spec.parameters.get_or_insert_with(Vec::new);
    if let Some(fs) = params[0].feasible_space.as_mut() {
        fs.list = Some(vec!["1".into()]);
    }
    if let Some(fs) = params[1].feasible_space.as_mut() {
        fs.min = Some("1".into());
    }
    params.push(search::int(1, 2).into_parameter("n"));
    if let Some(fs) = params[2].feasible_space.as_mut() {
        fs.max = None;
    }
    params.push(search::double(5.0, 1.0).into_parameter("rev"));
    params.push(search::double(0.0, 1.0).into_parameter("lr"));
    params.push(search::categorical(Vec::<String>::new()).into_parameter("empty"));
    let mut unknown = search::int(1, 2).into_parameter("u");
    unknown.parameter_type = Some("quantum".into());
    params.push(unknown);
    let e = errors(&exp);
    assert_error(
        &e,
        "spec.parameters[0].feasibleSpace.list",
        "feasibleSpace.list is not supported for parameterType: double",
    );
    assert_error(
        &e,
        "spec.parameters[1].feasibleSpace",
        "feasibleSpace .max, .min and .step is not supported for parameterType: categorical",
    );
    assert_error(
        &e,
        "spec.parameters[2].feasibleSpace.max",
        "feasibleSpace.max or feasibleSpace.min must be specified for parameterType: int",
    );
    assert_error(
        &e,
        "spec.parameters[3].feasibleSpace.min",
        "min (5) must not be greater than max (1)",
    );
    assert_error(
        &e,
        "spec.parameters[4].name",
        "parameter name lr is duplicated",
    );
    assert_error(
        &e,
        "spec.parameters[5].feasibleSpace",
        "feasibleSpace must be specified",
    );
    assert_error(
        &e,
        "spec.parameters[6].parameterType",
        "parameterType: quantum is not supported",
    );

    let e = errors(
        &base()
            .parameter(
                "d",
                search::double(0.0, 1.0).distribution("gaussian".into()),
            )
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.parameters[2].feasibleSpace.distribution",
        "distribution: gaussian is not supported",
    );
    let e = errors(
        &base()
            .parameter("nan", search::double(f64::NAN, 1.0))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.parameters[2].feasibleSpace",
        "min and max must be finite numbers",
    );
}

#[test]
fn trial_template_rules() {
    let mut exp = base().build_unchecked();
    exp.spec.trial_template = None;
    assert_error(&errors(&exp), "spec.trialTemplate", "must be specified");

    // Placeholder without a search parameter, and a search parameter reference that is missing.
    let e = errors(
        &base()
            .trial_template(TrialTemplateBuilder::job("img").command([
                "t",
                "${trialParameters.lr}",
                "${trialParameters.opt}",
                "${trialParameters.momentum}",
            ]))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.trialTemplate.trialParameters[2].reference",
        "parameter reference momentum does not exist in spec.parameters (lr, opt)",
    );

    // Declared trial parameter never used; placeholder never declared.
    let mut exp = base().build_unchecked();
    if let Some(t) = exp.spec.trial_template.as_mut() {
        let tps = t.trial_parameters.get_or_insert_with(Vec::new);
        tps.push(kubeflow_katib::TrialParameterSpec::new(
            "unused",
            "${trialSpec.Name}",
        ));
        tps.push(kubeflow_katib::TrialParameterSpec::new("lr", "opt"));
        tps.push(kubeflow_katib::TrialParameterSpec::new("x{", "lr"));
        tps.push(kubeflow_katib::TrialParameterSpec::new("other", "lr"));
        if let Some(s) = t.trial_spec.as_mut() {
            s.0["spec"]["template"]["spec"]["containers"][0]["args"] =
                json!(["${trialParameters.ghost}"]);
        }
    }
    let e = errors(&exp);
    assert_error(
        &e,
        "spec.trialTemplate.trialParameters[2].name",
        "parameter name: unused in spec.trialParameters not found in spec.trialTemplate.trialSpec",
    );
    assert_error(
        &e,
        "spec.trialTemplate.trialParameters[3].name",
        "parameter name lr can't be duplicated",
    );
    assert_error(
        &e,
        "spec.trialTemplate.trialParameters[4]",
        "name and reference must be specified and name must not contain '{' or '}'",
    );
    assert_error(
        &e,
        "spec.trialTemplate.trialParameters[5].reference",
        "parameter reference lr can't be duplicated",
    );
    assert_error(
        &e,
        "spec.trialTemplate",
        "parameters: ${trialParameters.ghost} in spec.trialTemplate not found in spec.trialParameters",
    );

    // Primary container: missing, and not in the template.
    let mut exp = base().build_unchecked();
    if let Some(t) = exp.spec.trial_template.as_mut() {
        t.primary_container_name = None;
    }
    assert_error(
        &errors(&exp),
        "spec.trialTemplate.primaryContainerName",
        "must be specified",
    );
    // A renamed container is the primary container.
    let renamed = base().trial_template(
        TrialTemplateBuilder::job("img")
            .command(["${trialParameters.lr}", "${trialParameters.opt}"])
            .container_name("trainer"),
    );
    assert!(renamed.build().is_ok());
    let mut exp = base().build_unchecked();
    if let Some(t) = exp.spec.trial_template.as_mut() {
        t.primary_container_name = Some("sidecar".into());
    }
    assert_error(
        &errors(&exp),
        "spec.trialTemplate.primaryContainerName",
        "container sidecar is not in spec.trialTemplate.trialSpec (its containers: training-container)",
    );

    // Metadata, apiVersion/kind, both sources, config map fields, custom kinds need conditions.
    let mut exp = base().build_unchecked();
    if let Some(t) = exp.spec.trial_template.as_mut()
        && let Some(s) = t.trial_spec.as_mut()
    {
        s.0["metadata"] = json!({"name": "fixed"});
        s.0.as_object_mut().map(|o| o.remove("apiVersion"));
    }
    let e = errors(&exp);
    assert_error(
        &e,
        "spec.trialTemplate.trialSpec.metadata",
        "metadata.name and metadata.namespace in spec.trialTemplate must be omitted",
    );
    assert_error(
        &e,
        "spec.trialTemplate.trialSpec",
        "APIVersion and Kind in spec.trialTemplate must be specified",
    );

    let mut exp = base().build_unchecked();
    if let Some(t) = exp.spec.trial_template.as_mut() {
        t.config_map = Some(ConfigMapSource::default());
    }
    assert_error(
        &errors(&exp),
        "spec.trialTemplate",
        "only one of spec.trialTemplate.trialSpec or spec.trialTemplate.configMap can be specified",
    );
    let mut exp = base().build_unchecked();
    if let Some(t) = exp.spec.trial_template.as_mut() {
        t.trial_spec = None;
        t.config_map = Some(ConfigMapSource::default());
        t.success_condition = Some("s".into());
        t.failure_condition = Some("f".into());
    }
    assert_error(
        &errors(&exp),
        "spec.trialTemplate.configMap",
        "configMapName, configMapNamespace and templatePath must be specified",
    );
    let mut exp = base().build_unchecked();
    if let Some(t) = exp.spec.trial_template.as_mut() {
        t.trial_spec = None;
    }
    assert_error(
        &errors(&exp),
        "spec.trialTemplate.trialSpec",
        "spec.trialTemplate.trialSpec or spec.trialTemplate.configMap must be specified",
    );

    let workflow = TrialJob::new(
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "spec": {"templates": [{"container": {"name": "main", "args": ["${trialParameters.lr}", "${trialParameters.opt}"]}}]}}),
    );
    let e = errors(
        &base()
            .trial_template(TrialTemplateBuilder::custom(workflow.clone(), "main"))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.trialTemplate",
        "successCondition and failureCondition must be specified",
    );
    let ok = base().trial_template(
        TrialTemplateBuilder::custom(workflow, "main")
            .success_condition("status.[@this].#(phase==\"Succeeded\")#")
            .failure_condition("status.[@this].#(phase==\"Failed\")#"),
    );
    assert!(ok.build().is_ok());
}

#[test]
fn metrics_collector_rules() {
    let e = errors(
        &base()
            .metrics_collector(MetricsCollectorSpec::file("relative.log", FileFormat::Text))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.source.fileSystemPath.path",
        "file path where metrics file exists is required",
    );
    let e = errors(
        &base()
            .metrics_collector(MetricsCollectorSpec::file(
                "/m.log",
                FileFormat::from("XML"),
            ))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.source.fileSystemPath.format",
        "must be TEXT or JSON (got \"XML\")",
    );
    let e = errors(
        &base()
            .metrics_collector(
                MetricsCollectorSpec::file("/m.log", FileFormat::Json).filter(["(a)=(b)"]),
            )
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.source.filter",
        "filter must be nil when format of metrics file is json",
    );
    let e = errors(
        &base()
            .metrics_collector(MetricsCollectorSpec::tensorflow_event("tb"))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.source",
        "directory path where tensorflow event files exist is required",
    );
    let e = errors(
        &base()
            .metrics_collector(MetricsCollectorSpec::prometheus(0, "metrics"))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.source.httpGet.port",
        "must be a positive integer value",
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.source.httpGet.path",
        "path is invalid",
    );
    let e = errors(
        &base()
            .metrics_collector(MetricsCollectorSpec::new("Telepathy".into()))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.collector.kind",
        "invalid metrics collector kind: Telepathy",
    );
    let e = errors(
        &base()
            .metrics_collector(MetricsCollectorSpec::new(
                kubeflow_katib::CollectorKind::Custom,
            ))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.collector.customCollector",
        "metrics collector kind: Custom is required",
    );
    let e = errors(
        &base()
            .metrics_collector(MetricsCollectorSpec::stdout().filter(["no-groups", "(unclosed"]))
            .build_unchecked(),
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.source.filter.metricsFormat",
        "two top subexpressions are required in \"no-groups\"",
    );
    assert_error(
        &e,
        "spec.metricsCollectorSpec.source.filter.metricsFormat",
        "invalid filter \"(unclosed\"",
    );
    // Go's regexp reads a stray `{` as a literal; so do we (the upstream file-collector example).
    let ok = base().metrics_collector(
        MetricsCollectorSpec::file("/katib/mnist.log", FileFormat::Text).filter([
            "{metricName: ([\\w|-]+), metricValue: ((-?\\d+)(\\.\\d+)?)}",
            "([a-z]{2,3})=(\\d{1})",
        ]),
    );
    assert!(ok.build().is_ok());
    assert!(
        base()
            .metrics_collector(MetricsCollectorSpec::push())
            .build()
            .is_ok()
    );
}

#[test]
fn errors_display_every_field() {
    let e = errors(
        &base()
            .max_trial_count(0)
            .parallel_trial_count(1)
            .additional_metric("loss")
            .build_unchecked(),
    );
    assert_eq!(
        e.to_string(),
        "invalid Experiment ns/valid-exp: spec.maxTrialCount: must be greater than 0; \
         spec.maxFailedTrialCount: should be less than or equal to spec.maxTrialCount (1 > 0); \
         spec.parallelTrialCount: should be less than or equal to spec.maxTrialCount (1 > 0); \
         spec.objective.additionalMetricNames: should not contain spec.objective.objectiveMetricName (loss)"
    );
}

#[test]
fn tune_rejects_unused_parameters_and_undeclared_placeholders() {
    let err = kubeflow_katib::Tune::new("t", "img")
        .command(["run", "${trialParameters.a}", "${trialParameters.zzz}"])
        .parameter("a", search::int(1, 3))
        .parameter("b", search::int(1, 3))
        .objective(ObjectiveType::Maximize, "m")
        .max_trial_count(3)
        .build();
    let Err(kubeflow_katib::Error::Invalid(e)) = err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_error(
        &e,
        "spec.parameters[1].name",
        "parameter b is not used in the command (no ${trialParameters.b})",
    );
    assert_error(
        &e,
        "spec.trialTemplate.trialParameters[1].reference",
        "parameter reference zzz does not exist in spec.parameters (a, b)",
    );
}
