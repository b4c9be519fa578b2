//! Mermaid and DOT rendering of a pipeline with a condition, a loop and an exit handler.

use kubeflow_pipelines::dsl::{Condition, ContainerComponent, Pipeline, Placeholder};
use kubeflow_pipelines::spec::ParameterType;

fn pipeline() -> Pipeline {
    let flip = ContainerComponent::new("flip", "alpine")
        .output("side", ParameterType::String)
        .args([Placeholder::output_file("side")]);
    let say = ContainerComponent::new("say", "alpine")
        .input("msg", ParameterType::String)
        .args([Placeholder::input("msg")]);
    let mut p = Pipeline::new("render \"me\"");
    p.exit_handler(say.task().arg("msg", "bye"), Some("main"), |p| {
        let f = p.add(flip.task());
        p.condition(Condition::eq(f.output("side"), "heads"), |p| {
            p.parallel_for_items(vec!["a".into(), "b".into()], Some(2), |p, item| {
                p.add(say.task().arg("msg", item));
            });
        });
    });
    p
}

#[test]
fn mermaid_shows_tasks_groups_and_edges() -> Result<(), Box<dyn std::error::Error>> {
    let spec = pipeline().compile()?;
    let expected = r#"flowchart TD
    subgraph n0["main"]
        direction TB
        subgraph n2["condition-2: if inputs.parameter_values['pipelinechannel--flip-side'] == 'heads'"]
            direction TB
            subgraph n4["for-loop-4: for each in [#quot;a#quot;, #quot;b#quot;], 2 at a time"]
                direction TB
                n5["say-2"]
            end
        end
        n3["flip"]
    end
    n1["say"]
    n3 --> n2
    n0 -->|on exit| n1
"#;
    assert_eq!(spec.to_mermaid(), expected);
    Ok(())
}

#[test]
fn dot_shows_tasks_groups_and_edges() -> Result<(), Box<dyn std::error::Error>> {
    let spec = pipeline().compile()?;
    let dot = spec.to_dot();
    assert!(
        dot.starts_with("digraph \"render \\\"me\\\"\" {\n"),
        "{dot}"
    );
    assert!(dot.contains("subgraph cluster_n2 {\n            label=\"condition-2: if inputs.parameter_values['pipelinechannel--flip-side'] == 'heads'\";"), "{dot}");
    assert!(
        dot.contains("label=\"for-loop-4: for each in [\\\"a\\\", \\\"b\\\"], 2 at a time\";"),
        "{dot}"
    );
    assert!(dot.contains("n5 [label=\"say-2\"];"), "{dot}");
    assert!(dot.contains("    n3 -> n2;\n"), "{dot}");
    assert!(dot.contains("    n0 -> n1 [label=\"on exit\"];\n"), "{dot}");
    assert!(dot.ends_with("}\n"));
    Ok(())
}
