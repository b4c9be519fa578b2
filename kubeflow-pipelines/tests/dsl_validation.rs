//! Validation of DSL pipelines before compiling: each mistake gives a clear error naming the
//! task and input.

use kubeflow_pipelines::dsl::{
    Condition, ContainerComponent, DslError, Pipeline, Placeholder, Retry, artifact,
};
use kubeflow_pipelines::spec::ParameterType;

fn producer() -> ContainerComponent {
    ContainerComponent::new("producer", "alpine")
        .input("text", ParameterType::String)
        .output_artifact("data", artifact::dataset())
        .output("count", ParameterType::NumberInteger)
        .output("label", ParameterType::String)
        .command(["produce"])
        .args([
            Placeholder::input("text"),
            Placeholder::output_path("data"),
            Placeholder::output_file("count"),
            Placeholder::output_file("label"),
        ])
}

fn consumer() -> ContainerComponent {
    ContainerComponent::new("consumer", "alpine")
        .input_artifact("model", artifact::model())
        .input_with_default("n", ParameterType::NumberInteger, 1)
        .command(["consume"])
        .args([Placeholder::input_path("model"), Placeholder::input("n")])
}

fn error_of(pipeline: &Pipeline) -> DslError {
    match pipeline.compile() {
        Err(err) => err,
        Ok(_) => panic!("expected a validation error"),
    }
}

#[test]
fn unknown_input() {
    let mut p = Pipeline::new("p");
    p.add(producer().task().arg("text", "a").arg("txt", "b"));
    let err = error_of(&p);
    assert!(
        matches!(&err, DslError::UnknownInput { input, .. } if input == "txt"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "task producer: component producer has no input txt (it has: text)"
    );
}

#[test]
fn missing_input() {
    let mut p = Pipeline::new("p");
    p.add(producer().task());
    let err = error_of(&p);
    assert_eq!(
        err.to_string(),
        "task producer: required input text is not set"
    );
}

#[test]
fn parameter_given_to_artifact_and_wrong_artifact_type() {
    let mut p = Pipeline::new("p");
    let t = p.add(producer().task().arg("text", "a"));
    p.add(consumer().task().arg("model", t.output("count")));
    let err = error_of(&p);
    assert_eq!(
        err.to_string(),
        "task consumer: input model is a artifact system.Model but gets a parameter NUMBER_INTEGER"
    );

    let mut p = Pipeline::new("p");
    let t = p.add(producer().task().arg("text", "a"));
    p.add(consumer().task().arg("model", t.output("data")));
    let err = error_of(&p);
    assert!(
        matches!(&err, DslError::TypeMismatch { expected, got, .. }
            if expected == "artifact system.Model" && got == "artifact system.Dataset"),
        "{err:?}"
    );

    let mut p = Pipeline::new("p");
    p.add(producer().task().arg("text", 3));
    assert!(matches!(error_of(&p), DslError::TypeMismatch { .. }));
}

#[test]
fn unknown_output() {
    let mut p = Pipeline::new("p");
    let t = p.add(producer().task().arg("text", "a"));
    p.add(producer().task().arg("text", t.output("nope")));
    let err = error_of(&p);
    assert_eq!(
        err.to_string(),
        "task producer-2: task producer has no output nope (it has: data, count, label)"
    );
}

#[test]
fn output_used_outside_its_scope() {
    let mut p = Pipeline::new("p");
    let flag = p.parameter("flag", ParameterType::Boolean);
    let inner = p.condition(Condition::eq(&flag, true), |p| {
        p.add(producer().task().arg("text", "a"))
    });
    p.add(producer().task().arg("text", inner.output("label")));
    let err = error_of(&p);
    assert!(
        matches!(&err, DslError::OutOfScope { scope, .. } if scope == "condition-1"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("outputs can only be used within the scope")
    );

    // Collected outputs are only for tasks directly inside a loop.
    let mut p = Pipeline::new("p");
    let t = p.add(producer().task().arg("text", "a"));
    p.add(producer().task().arg("text", t.collected("label")));
    assert!(matches!(error_of(&p), DslError::NotInLoop { .. }));
}

#[test]
fn duplicates_and_foreign_handles() {
    let mut p = Pipeline::new("p");
    p.parameter("x", ParameterType::String);
    p.parameter("x", ParameterType::String);
    assert_eq!(
        error_of(&p).to_string(),
        "duplicate pipeline parameter name x"
    );

    let mut p = Pipeline::new("p");
    p.add(producer().task().arg("text", "a").arg("text", "b"));
    assert!(matches!(error_of(&p), DslError::DuplicateInput { .. }));

    let mut other = Pipeline::new("other");
    let foreign = other.add(producer().task().arg("text", "a"));
    let mut p = Pipeline::new("p");
    p.add(producer().task().arg("text", "a").after(&foreign));
    assert!(matches!(error_of(&p), DslError::ForeignHandle { .. }));
}

#[test]
fn placeholders_must_name_declared_inputs_and_outputs() {
    let broken = ContainerComponent::new("broken", "alpine")
        .input("a", ParameterType::String)
        .args([Placeholder::input_path("a")]);
    let mut p = Pipeline::new("p");
    p.add(broken.task().arg("a", "x"));
    let err = error_of(&p);
    assert_eq!(
        err.to_string(),
        "component broken: placeholder refers to input artifact a, which it does not declare"
    );
}

#[test]
fn resources_are_checked() {
    let mut p = Pipeline::new("p");
    p.add(
        producer()
            .task()
            .arg("text", "a")
            .cpu_limit("two")
            .retry(Retry::times(1)),
    );
    assert!(matches!(
        error_of(&p),
        DslError::InvalidResource {
            what: "cpu limit",
            ..
        }
    ));
    let mut p = Pipeline::new("p");
    p.add(producer().task().arg("text", "a").memory_limit("4GB"));
    assert!(matches!(
        error_of(&p),
        DslError::InvalidResource {
            what: "memory limit",
            ..
        }
    ));
}

#[test]
fn conditions_compare_parameters() {
    let mut p = Pipeline::new("p");
    let t = p.add(producer().task().arg("text", "a"));
    p.condition(Condition::eq(t.output("data"), "x"), |p| {
        p.add(producer().task().arg("text", "a"));
    });
    assert!(matches!(error_of(&p), DslError::InvalidCondition { .. }));
}

#[test]
fn loops_need_list_items() {
    let mut p = Pipeline::new("p");
    let s = p.parameter("s", ParameterType::String);
    p.parallel_for(&s, ParameterType::String, None, |p, item| {
        p.add(producer().task().arg("text", item));
    });
    assert!(matches!(error_of(&p), DslError::InvalidLoop { .. }));
}

#[test]
fn a_valid_pipeline_compiles() {
    let mut p = Pipeline::new("p");
    let t = p.add(producer().task().arg("text", "a"));
    p.add(producer().task().arg("text", "b").after(&t));
    let spec = p.compile();
    assert!(spec.is_ok(), "{spec:?}");
}

#[test]
fn pipeline_outputs_come_from_top_level_tasks() {
    let mut p = Pipeline::new("p");
    let flag = p.parameter("flag", ParameterType::Boolean);
    let inner = p.condition(Condition::eq(&flag, true), |p| {
        p.add(producer().task().arg("text", "a"))
    });
    p.output("label", inner.output("label"));
    let err = error_of(&p);
    assert_eq!(
        err.to_string(),
        "pipeline output label: task producer is inside condition-1; pipeline outputs come from top-level tasks"
    );

    let mut p = Pipeline::new("p");
    p.output("x", "constant");
    assert!(matches!(error_of(&p), DslError::InvalidOutput { .. }));
}

#[test]
fn one_of_needs_one_output_per_branch() {
    let mut p = Pipeline::new("p");
    let t = p.add(producer().task().arg("text", "a"));
    let bad = p.one_of([t.output("label")]);
    p.add(producer().task().arg("text", bad));
    let err = error_of(&p);
    assert!(matches!(&err, DslError::InvalidOneOf { .. }), "{err:?}");
    assert!(
        err.to_string().contains("not directly inside a branch"),
        "{err}"
    );

    let mut p = Pipeline::new("p");
    let flag = p.parameter("flag", ParameterType::Boolean);
    let (a, b) = p.branches(|br| {
        let a = br.if_(Condition::eq(&flag, true), |p| {
            p.add(producer().task().arg("text", "a"))
        });
        let b = br.else_(|p| p.add(producer().task().arg("text", "b")));
        (a, b)
    });
    let mixed = p.one_of([a.output("label"), b.output("count")]);
    p.add(producer().task().arg("text", mixed));
    assert!(error_of(&p).to_string().contains("same type"));
}

#[test]
fn loop_items_stay_inside_their_loop() {
    let mut p = Pipeline::new("p");
    let leaked = p.parallel_for_items(vec!["a".into()], None, |_, item| item);
    p.add(producer().task().arg("text", leaked));
    assert!(matches!(error_of(&p), DslError::OutOfScope { .. }));

    let mut p = Pipeline::new("p");
    p.parallel_for_items(vec![serde_json::json!({"a": 1})], None, |p, item| {
        p.condition(Condition::eq(item.field("a"), "x"), |p| {
            p.add(producer().task().arg("text", "a"));
        });
    });
    let err = error_of(&p);
    assert!(err.to_string().contains("not supported yet"), "{err}");
}
