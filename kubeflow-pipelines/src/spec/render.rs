//! Renders the DAG of a compiled pipeline as Mermaid or Graphviz DOT text: tasks as nodes,
//! `dependentTasks` as edges, conditions, loops and exit handlers as labelled subgraphs.

use std::fmt::Write as _;

use super::{PipelineSpec, PipelineTaskSpec, TriggerStrategy};

/// A node of the rendered graph.
struct Node {
    id: String,
    label: String,
    /// Label of the subgraph when the task runs a sub-DAG (condition, loop, exit handler,
    /// nested pipeline).
    children: Option<Vec<Node>>,
}

struct Edge {
    from: String,
    to: String,
    label: Option<&'static str>,
}

struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    next_id: usize,
}

fn group_label(name: &str, task: &PipelineTaskSpec) -> String {
    if let Some(condition) = task
        .trigger_policy
        .as_ref()
        .and_then(|t| t.condition.as_deref())
    {
        return format!("{name}: if {condition}");
    }
    if let Some(iterator) = &task.parameter_iterator {
        let items = iterator.items.as_ref();
        let over = items
            .and_then(|i| i.raw.clone().or_else(|| i.input_parameter.clone()))
            .unwrap_or_default();
        let parallelism = task
            .iterator_policy
            .as_ref()
            .and_then(|p| p.parallelism_limit)
            .map(|n| format!(", {n} at a time"))
            .unwrap_or_default();
        return format!("{name}: for each in {over}{parallelism}");
    }
    if let Some(iterator) = &task.artifact_iterator {
        let over = iterator
            .items
            .as_ref()
            .and_then(|i| i.input_artifact.clone())
            .unwrap_or_default();
        return format!("{name}: for each in {over}");
    }
    name.to_owned()
}

impl Graph {
    fn build(spec: &PipelineSpec) -> Self {
        let mut graph = Graph {
            nodes: Vec::new(),
            edges: Vec::new(),
            next_id: 0,
        };
        if let Some(dag) = spec.root.as_ref().and_then(|r| r.dag.as_ref()) {
            graph.nodes = graph.dag(spec, &dag.tasks, 0);
        }
        graph
    }

    fn dag(
        &mut self,
        spec: &PipelineSpec,
        tasks: &std::collections::BTreeMap<String, PipelineTaskSpec>,
        depth: usize,
    ) -> Vec<Node> {
        let mut ids = std::collections::BTreeMap::new();
        for name in tasks.keys() {
            ids.insert(name.clone(), format!("n{}", self.next_id));
            self.next_id += 1;
        }
        let mut nodes = Vec::new();
        for (name, task) in tasks {
            let id = ids.get(name).cloned().unwrap_or_default();
            let sub_dag = task
                .component_ref
                .as_ref()
                .and_then(|r| r.name.as_ref())
                .and_then(|c| spec.components.get(c))
                .and_then(|c| c.dag.as_ref());
            let display = task
                .task_info
                .as_ref()
                .and_then(|i| i.name.clone())
                .unwrap_or_else(|| name.clone());
            let node = match sub_dag {
                // Guard against a component referring to itself.
                Some(dag) if depth < 32 => Node {
                    id: id.clone(),
                    label: group_label(&display, task),
                    children: Some(self.dag(spec, &dag.tasks, depth + 1)),
                },
                _ => Node {
                    id: id.clone(),
                    label: display,
                    children: None,
                },
            };
            nodes.push(node);
            let on_exit = task
                .trigger_policy
                .as_ref()
                .and_then(|t| t.strategy.as_ref())
                == Some(&TriggerStrategy::AllUpstreamTasksCompleted);
            for dependency in &task.dependent_tasks {
                if let Some(from) = ids.get(dependency) {
                    self.edges.push(Edge {
                        from: from.clone(),
                        to: id.clone(),
                        label: on_exit.then_some("on exit"),
                    });
                }
            }
        }
        nodes
    }
}

fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;").replace('\n', " ")
}

fn dot_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn write_mermaid(out: &mut String, nodes: &[Node], indent: usize) {
    let pad = "    ".repeat(indent);
    for node in nodes {
        match &node.children {
            Some(children) => {
                let _ = writeln!(
                    out,
                    "{pad}subgraph {}[\"{}\"]",
                    node.id,
                    mermaid_text(&node.label)
                );
                let _ = writeln!(out, "{pad}    direction TB");
                write_mermaid(out, children, indent + 1);
                let _ = writeln!(out, "{pad}end");
            }
            None => {
                let _ = writeln!(out, "{pad}{}[\"{}\"]", node.id, mermaid_text(&node.label));
            }
        }
    }
}

fn write_dot(out: &mut String, nodes: &[Node], indent: usize) {
    let pad = "    ".repeat(indent);
    for node in nodes {
        match &node.children {
            Some(children) => {
                let _ = writeln!(out, "{pad}subgraph cluster_{} {{", node.id);
                let _ = writeln!(out, "{pad}    label=\"{}\";", dot_text(&node.label));
                let _ = writeln!(out, "{pad}    style=dashed;");
                // An anchor for the edges to and from the group.
                let _ = writeln!(out, "{pad}    {} [label=\"\", shape=point];", node.id);
                write_dot(out, children, indent + 1);
                let _ = writeln!(out, "{pad}}}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "{pad}{} [label=\"{}\"];",
                    node.id,
                    dot_text(&node.label)
                );
            }
        }
    }
}

impl PipelineSpec {
    /// The pipeline DAG as a Mermaid flowchart, for READMEs and docs.
    ///
    /// ```
    /// # use kubeflow_pipelines::spec::PipelineSpec;
    /// let spec: PipelineSpec = serde_json::from_value(serde_json::json!({
    ///     "root": {"dag": {"tasks": {
    ///         "a": {"taskInfo": {"name": "a"}},
    ///         "b": {"taskInfo": {"name": "b"}, "dependentTasks": ["a"]},
    ///     }}},
    /// }))?;
    /// assert_eq!(spec.to_mermaid(), "flowchart TD\n    n0[\"a\"]\n    n1[\"b\"]\n    n0 --> n1\n");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn to_mermaid(&self) -> String {
        let graph = Graph::build(self);
        let mut out = String::from("flowchart TD\n");
        write_mermaid(&mut out, &graph.nodes, 1);
        for edge in &graph.edges {
            match edge.label {
                Some(label) => {
                    let _ = writeln!(out, "    {} -->|{label}| {}", edge.from, edge.to);
                }
                None => {
                    let _ = writeln!(out, "    {} --> {}", edge.from, edge.to);
                }
            }
        }
        out
    }

    /// The pipeline DAG as Graphviz DOT text (`dot -Tsvg`).
    pub fn to_dot(&self) -> String {
        let graph = Graph::build(self);
        let name = dot_text(self.name().unwrap_or("pipeline"));
        let mut out = format!(
            "digraph \"{name}\" {{\n    rankdir=TB;\n    compound=true;\n    node [shape=box, style=rounded];\n"
        );
        write_dot(&mut out, &graph.nodes, 1);
        for edge in &graph.edges {
            match edge.label {
                Some(label) => {
                    let _ = writeln!(out, "    {} -> {} [label=\"{label}\"];", edge.from, edge.to);
                }
                None => {
                    let _ = writeln!(out, "    {} -> {};", edge.from, edge.to);
                }
            }
        }
        out.push_str("}\n");
        out
    }
}
