//! Resolving a container's command and arguments: the `Concat` and `IfPresent` structures, the
//! run and task placeholders (`{{$.pipeline_job_name}}`, `{{$.pipeline_root}}`, ...), the
//! executor input (`{{$}}`) and the input/output placeholders
//! (`{{$.inputs.parameters['x']}}`, `{{$.outputs.artifacts['model'].path}}`, ...).

use serde_json::{Map, Value};

use super::value;

/// What the run- and task-level placeholders resolve to.
#[derive(Debug, Clone)]
pub(crate) struct TaskContext {
    pub job_name: String,
    pub job_id: String,
    pub task_name: String,
    pub task_id: String,
    pub pipeline_root: String,
    pub create_time: String,
    pub workspace: Option<String>,
}

/// Resolves every element of a command line. Elements that resolve to nothing (an `IfPresent`
/// of an absent input without `Else`) are dropped; an `IfPresent` list expands in place.
pub(crate) fn resolve_command(
    parts: &[String],
    executor_input: &Value,
    ctx: &TaskContext,
) -> Result<Vec<String>, String> {
    let executor_input_text = value::python_json(executor_input);
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        for piece in resolve_struct(part, executor_input)? {
            out.push(resolve_string(
                &piece,
                executor_input,
                &executor_input_text,
                ctx,
            )?);
        }
    }
    Ok(out)
}

/// Resolves the placeholders of parameter values that point at other parameters of the same
/// executor input (what an f-string argument compiles to: a constant of the spec). Only the
/// inputs named in `constants` are resolved: values from users or upstream tasks are data,
/// passed on as they are even when they look like placeholders.
pub(crate) fn resolve_self_references(
    executor_input: &mut Value,
    constants: &std::collections::BTreeSet<String>,
) -> Result<(), String> {
    let snapshot = executor_input.clone();
    let Some(values) = executor_input
        .pointer_mut("/inputs/parameterValues")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    for (name, slot) in values.iter_mut() {
        if !constants.contains(name) {
            continue;
        }
        if let Value::String(text) = slot
            && text.contains("{{$.inputs.parameters[")
        {
            *text = resolve_io(text, &snapshot)
                .map_err(|err| format!("input parameter `{name}`: {err}"))?;
        }
    }
    Ok(())
}

fn provided(executor_input: &Value, name: &str) -> bool {
    let param = executor_input
        .pointer("/inputs/parameterValues")
        .and_then(|v| v.get(name))
        .is_some_and(|v| !v.is_null());
    let artifact = executor_input
        .pointer("/inputs/artifacts")
        .and_then(|v| v.get(name))
        .is_some_and(|v| !v.is_null());
    param || artifact
}

/// Expands a `{"Concat": [...]}` or `{"IfPresent": {...}}` element into zero or more strings.
fn resolve_struct(part: &str, executor_input: &Value) -> Result<Vec<String>, String> {
    if !(part.starts_with("{\"Concat\": ") || part.starts_with("{\"IfPresent\": ")) {
        return Ok(vec![part.to_owned()]);
    }
    let parsed: Value = serde_json::from_str(part)
        .map_err(|err| format!("placeholder structure {part:?} is not JSON: {err}"))?;
    let mut out = Vec::new();
    expand(&parsed, executor_input, &mut out)?;
    Ok(out)
}

fn expand(node: &Value, executor_input: &Value, out: &mut Vec<String>) -> Result<(), String> {
    match node {
        Value::String(text) => {
            out.push(text.clone());
            Ok(())
        }
        Value::Array(items) => {
            for item in items {
                expand(item, executor_input, out)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            if let Some(parts) = map.get("Concat") {
                let Value::Array(parts) = parts else {
                    return Err(format!("Concat needs a list, got {parts}"));
                };
                let mut joined = String::new();
                for part in parts {
                    let mut pieces = Vec::new();
                    expand(part, executor_input, &mut pieces)?;
                    joined.push_str(&pieces.concat());
                }
                out.push(joined);
                Ok(())
            } else if let Some(spec) = map.get("IfPresent") {
                let name = spec
                    .get("InputName")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("IfPresent without InputName: {spec}"))?;
                let branch = if provided(executor_input, name) {
                    spec.get("Then")
                } else {
                    spec.get("Else")
                };
                match branch {
                    None | Some(Value::Null) => Ok(()),
                    Some(branch) => expand(branch, executor_input, out),
                }
            } else {
                Err(format!("unknown placeholder structure {node}"))
            }
        }
        other => Err(format!("unexpected {other} in a placeholder structure")),
    }
}

fn resolve_string(
    text: &str,
    executor_input: &Value,
    executor_input_text: &str,
    ctx: &TaskContext,
) -> Result<String, String> {
    if !text.contains("{{$") {
        return Ok(text.to_owned());
    }
    let output_file = executor_input
        .pointer("/outputs/outputFile")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut text = text
        .replace("{{$.outputs.output_file}}", output_file)
        .replace("{{$.outputMetadataUri}}", output_file)
        .replace("{{$.pipeline_job_name}}", &ctx.job_name)
        .replace("{{$.pipeline_job_resource_name}}", &ctx.job_name)
        .replace("{{$.pipeline_job_uuid}}", &ctx.job_id)
        .replace("{{$.pipeline_task_name}}", &ctx.task_name)
        .replace("{{$.pipeline_task_uuid}}", &ctx.task_id)
        .replace("{{$.pipeline_root}}", &ctx.pipeline_root)
        .replace("{{$.pipeline_job_create_time_utc}}", &ctx.create_time)
        .replace("{{$.pipeline_job_schedule_time_utc}}", &ctx.create_time);
    if text.contains("{{$.workspace_path}}") {
        let Some(workspace) = &ctx.workspace else {
            return Err(
                "{{$.workspace_path}} is used but the pipeline has no workspace \
                        (PipelineConfig.workspace)"
                    .into(),
            );
        };
        text = text.replace("{{$.workspace_path}}", workspace);
    }
    // `{{$}}` last: the executor input's own text is not scanned for placeholders.
    let pieces: Result<Vec<String>, String> = text
        .split("{{$}}")
        .map(|piece| resolve_io(piece, executor_input))
        .collect();
    Ok(pieces?.join(executor_input_text))
}

/// Replaces every `{{$.inputs...}}` / `{{$.outputs...}}` placeholder in `text`.
fn resolve_io(text: &str, executor_input: &Value) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{$.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 4..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let body = &after[..end];
        let value = lookup(body, executor_input)?;
        out.push_str(&value::render(&value));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits `inputs.artifacts['x'].metadata['k']` into `inputs`, `artifacts`, `x`, `metadata`, `k`.
fn segments(body: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let quote = after.chars().next().filter(|c| *c == '\'' || *c == '"');
            let Some(quote) = quote else {
                return Err(format!(
                    "bad placeholder {{{{$.{body}}}}}: expected a quoted key"
                ));
            };
            let inner = &after[1..];
            let Some(close) = inner.find(quote) else {
                return Err(format!(
                    "bad placeholder {{{{$.{body}}}}}: unterminated key"
                ));
            };
            out.push(inner[..close].to_owned());
            rest = inner[close + 1..]
                .strip_prefix(']')
                .ok_or_else(|| format!("bad placeholder {{{{$.{body}}}}}: expected `]`"))?;
        } else if let Some(after) = rest.strip_prefix('.') {
            rest = after;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    Ok(out)
}

fn lookup(body: &str, executor_input: &Value) -> Result<Value, String> {
    if body.contains("json_escape") {
        return Err(format!(
            "the placeholder {{{{$.{body}}}}} (json_escape) is not supported by the local runner"
        ));
    }
    let parts = segments(body)?;
    let placeholder = || format!("{{{{$.{body}}}}}");
    let missing = |what: &str| format!("{} refers to {what}, which has no value", placeholder());
    match parts
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["inputs", "parameters", name] => executor_input
            .pointer("/inputs/parameterValues")
            .and_then(|v| v.get(*name))
            .filter(|v| !v.is_null())
            .cloned()
            .ok_or_else(|| missing(&format!("input parameter `{name}`"))),
        ["outputs", "parameters", name, "output_file"] => executor_input
            .pointer("/outputs/parameters")
            .and_then(|v| v.get(*name))
            .and_then(|v| v.get("outputFile"))
            .cloned()
            .ok_or_else(|| missing(&format!("output parameter `{name}`"))),
        [side @ ("inputs" | "outputs"), "artifacts", name, rest @ ..] => {
            let artifact = executor_input
                .get(*side)
                .and_then(|v| v.get("artifacts"))
                .and_then(|v| v.get(*name))
                .and_then(|v| v.get("artifacts"))
                .and_then(|v| v.get(0))
                .ok_or_else(|| {
                    missing(&format!("{} artifact `{name}`", &side[..side.len() - 1]))
                })?;
            match rest {
                ["path" | "uri"] => Ok(artifact.get("uri").cloned().unwrap_or(Value::Null)),
                ["metadata"] => Ok(artifact
                    .get("metadata")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new()))),
                ["metadata", key] => artifact
                    .get("metadata")
                    .and_then(|m| m.get(*key))
                    .cloned()
                    .ok_or_else(|| missing(&format!("metadata key `{key}` of `{name}`"))),
                _ => Err(format!("unknown placeholder {}", placeholder())),
            }
        }
        _ => Err(format!("unknown placeholder {}", placeholder())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> TaskContext {
        TaskContext {
            job_name: "p-1".into(),
            job_id: "id".into(),
            task_name: "t".into(),
            task_id: "tid".into(),
            pipeline_root: "/root".into(),
            create_time: "2026-01-01T00:00:00Z".into(),
            workspace: None,
        }
    }

    fn input() -> Value {
        json!({
            "inputs": {
                "parameterValues": {"n": 3, "s": "hi", "l": [1, 2], "f": "{{$.inputs.parameters['s']}}-x"},
                "artifacts": {"data": {"artifacts": [{"name": "data", "uri": "/r/data",
                    "metadata": {"rows": 5}, "type": {"schemaTitle": "system.Dataset"}}]}}
            },
            "outputs": {
                "parameters": {"out": {"outputFile": "/r/t/out"}},
                "artifacts": {"model": {"artifacts": [{"name": "model", "uri": "/r/t/model", "metadata": {}}]}},
                "outputFile": "/r/t/executor_output.json"
            }
        })
    }

    #[test]
    fn resolves_io_and_structures() {
        let mut ei = input();
        let constants = ["f".to_owned()].into_iter().collect();
        resolve_self_references(&mut ei, &constants).unwrap();
        // A value that is data (not a constant of the spec) stays as it is.
        let mut data = input();
        resolve_self_references(&mut data, &Default::default()).unwrap();
        assert_eq!(
            data["inputs"]["parameterValues"]["f"],
            "{{$.inputs.parameters['s']}}-x"
        );
        let parts: Vec<String> = [
            "{{$.inputs.parameters['n']}}",
            "--l={{$.inputs.parameters['l']}}",
            "{{$.inputs.artifacts['data'].path}}",
            "{{$.inputs.artifacts['data'].metadata['rows']}}",
            "{{$.outputs.parameters['out'].output_file}}",
            "{{$.outputs.artifacts['model'].uri}}",
            "{{$.inputs.parameters['f']}}",
            r#"{"Concat": ["a-", "{{$.inputs.parameters['s']}}", "-b"]}"#,
            r#"{"IfPresent": {"InputName": "s", "Then": ["--s", "{{$.inputs.parameters['s']}}"]}}"#,
            r#"{"IfPresent": {"InputName": "absent", "Then": ["--x"], "Else": "none"}}"#,
            r#"{"IfPresent": {"InputName": "absent", "Then": ["--x"]}}"#,
            "{{$.pipeline_job_name}}/{{$.pipeline_task_name}}",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let got = resolve_command(&parts, &ei, &ctx()).unwrap();
        assert_eq!(
            got,
            [
                "3",
                "--l=[1, 2]",
                "/r/data",
                "5",
                "/r/t/out",
                "/r/t/model",
                "hi-x",
                "a-hi-b",
                "--s",
                "hi",
                "none",
                "p-1/t"
            ]
        );
    }

    #[test]
    fn executor_input_placeholder_is_json() {
        let got = resolve_command(&["{{$}}".to_owned()], &input(), &ctx()).unwrap();
        let back: Value = serde_json::from_str(&got[0]).unwrap();
        assert_eq!(back, input());
    }

    #[test]
    fn missing_and_unknown_placeholders_are_errors() {
        let err = resolve_command(
            &["{{$.inputs.parameters['nope']}}".to_owned()],
            &input(),
            &ctx(),
        )
        .unwrap_err();
        assert!(err.contains("input parameter `nope`"), "{err}");
        let err = resolve_command(&["{{$.whatever}}".to_owned()], &input(), &ctx()).unwrap_err();
        assert!(err.contains("unknown placeholder"), "{err}");
        let err =
            resolve_command(&["{{$.workspace_path}}".to_owned()], &input(), &ctx()).unwrap_err();
        assert!(err.contains("workspace"), "{err}");
    }
}
