//! Executors and component specs of container and importer tasks, resources.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

use super::*;

/// Descriptions of inputs and of outputs, by name.
type Descriptions<'a> = (&'a BTreeMap<String, String>, &'a BTreeMap<String, String>);

pub(super) fn io_definitions(
    inputs: &[(String, IoKind)],
    outputs: &[(String, IoKind)],
    descriptions: Option<Descriptions<'_>>,
) -> (Option<ComponentInputsSpec>, Option<ComponentOutputsSpec>) {
    let input_description = |name: &str| descriptions.and_then(|(d, _)| d.get(name).cloned());
    let output_description = |name: &str| descriptions.and_then(|(_, d)| d.get(name).cloned());
    let mut input_spec = ComponentInputsSpec::default();
    for (name, kind) in inputs {
        match kind {
            IoKind::Parameter {
                ty,
                default,
                optional,
            } => {
                let mut def = InputParameterDefinition::default();
                def.parameter_type = Some(ty.clone());
                def.default_value = default.as_ref().map(protobuf_value);
                def.is_optional =
                    (*optional || *ty == ParameterType::TaskFinalStatus).then_some(true);
                def.description = input_description(name);
                input_spec.parameters.insert(name.clone(), def);
            }
            IoKind::Artifact { ty, list, optional } => {
                let mut def = InputArtifactDefinition::default();
                def.artifact_type = Some(ty.clone());
                def.is_artifact_list = list.then_some(true);
                def.is_optional = optional.then_some(true);
                def.description = input_description(name);
                input_spec.artifacts.insert(name.clone(), def);
            }
        }
    }
    let mut output_spec = ComponentOutputsSpec::default();
    for (name, kind) in outputs {
        match kind {
            IoKind::Parameter { ty, .. } => {
                let mut def = OutputParameterDefinition::default();
                def.parameter_type = Some(ty.clone());
                def.description = output_description(name);
                output_spec.parameters.insert(name.clone(), def);
            }
            IoKind::Artifact { ty, list, .. } => {
                let mut def = OutputArtifactDefinition::default();
                def.artifact_type = Some(ty.clone());
                def.is_artifact_list = list.then_some(true);
                def.description = output_description(name);
                output_spec.artifacts.insert(name.clone(), def);
            }
        }
    }
    let inputs = (!input_spec.parameters.is_empty() || !input_spec.artifacts.is_empty())
        .then_some(input_spec);
    let outputs = (!output_spec.parameters.is_empty() || !output_spec.artifacts.is_empty())
        .then_some(output_spec);
    (inputs, outputs)
}

pub(super) fn container_component(
    component: &ContainerComponent,
    task: &Task,
    task_name: &str,
) -> Result<(ComponentSpec, ExecutorSpec), DslError> {
    let mut references = Vec::new();
    for part in component.command.iter().chain(&component.args) {
        part.references(&mut references);
    }
    for (name, is_output, what) in references {
        let declared = if is_output {
            &component.outputs
        } else {
            &component.inputs
        };
        let found = declared.iter().find(|(n, _)| *n == name).map(|(_, k)| k);
        let fits = match (found, what) {
            (None, _) => false,
            (Some(_), "any") => true,
            (Some(kind), "artifact") => kind.is_artifact(),
            (Some(kind), _) => !kind.is_artifact(),
        };
        if !fits {
            return Err(DslError::UnknownPlaceholder {
                component: component.name.clone(),
                what: format!("{} {what}", if is_output { "output" } else { "input" }),
                name,
            });
        }
    }
    let (inputs, outputs) = io_definitions(
        &component.inputs,
        &component.outputs,
        Some((
            &component.input_descriptions,
            &component.output_descriptions,
        )),
    );
    let mut spec = ComponentSpec::default();
    spec.input_definitions = inputs;
    spec.output_definitions = outputs;
    let mut container = PipelineContainerSpec::default();
    container.image = Some(component.image.clone());
    container.command = component.command.iter().map(|p| p.render()).collect();
    container.args = component.args.iter().map(|p| p.render()).collect();
    container.env = task
        .env
        .iter()
        .map(|(n, v)| EnvVar::new(n.clone(), v.clone()))
        .collect();
    container.resources = resources(task, task_name)?;
    let mut executor = ExecutorSpec::default();
    executor.container = Some(container);
    Ok((spec, executor))
}

pub(super) fn importer_component(
    importer: &Importer,
    task: &Task,
) -> (ComponentSpec, ExecutorSpec) {
    let outputs = outputs_of(task);
    let (inputs, outputs) = io_definitions(&importer_inputs(), &outputs, None);
    let mut spec = ComponentSpec::default();
    spec.input_definitions = inputs;
    spec.output_definitions = outputs;
    let mut importer_spec = ImporterSpec::default();
    let uri = task.args.iter().find(|(n, _)| n == "uri").map(|(_, s)| s);
    importer_spec.artifact_uri = Some(match uri {
        Some(Source::Constant(value)) => ValueOrRuntimeParameter::constant(protobuf_value(value)),
        _ => {
            let mut runtime = ValueOrRuntimeParameter::default();
            runtime.runtime_parameter = Some("uri".to_owned());
            runtime
        }
    });
    importer_spec.type_schema = Some(importer.ty.clone());
    importer_spec.reimport = importer.reimport.then_some(true);
    importer_spec.metadata = (!importer.metadata.is_empty()).then(|| {
        importer
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), protobuf_value(v)))
            .collect()
    });
    let mut executor = ExecutorSpec::default();
    executor.importer = Some(importer_spec);
    (spec, executor)
}

pub(super) fn resources(task: &Task, task_name: &str) -> Result<Option<ResourceSpec>, DslError> {
    let mut spec = ResourceSpec::default();
    let mut any = false;
    let cpu = |what: &'static str, value: &str| -> Result<f64, DslError> {
        parse_cpu(value).ok_or_else(|| DslError::InvalidResource {
            task: task_name.to_owned(),
            what,
            value: value.to_owned(),
            message: "expected a number, or an integer followed by m",
        })
    };
    let memory = |what: &'static str, value: &str| -> Result<f64, DslError> {
        parse_memory(value).ok_or_else(|| DslError::InvalidResource {
            task: task_name.to_owned(),
            what,
            value: value.to_owned(),
            message: "expected an integer, optionally followed by E, P, T, G, M, K or Ei, Pi, Ti, Gi, Mi, Ki",
        })
    };
    if let Some(value) = &task.cpu_limit {
        spec.other
            .insert("cpuLimit".into(), Value::from(cpu("cpu limit", value)?));
        spec.resource_cpu_limit = Some(value.clone());
        any = true;
    }
    if let Some(value) = &task.cpu_request {
        spec.other
            .insert("cpuRequest".into(), Value::from(cpu("cpu request", value)?));
        spec.resource_cpu_request = Some(value.clone());
        any = true;
    }
    if let Some(value) = &task.memory_limit {
        spec.other.insert(
            "memoryLimit".into(),
            Value::from(memory("memory limit", value)?),
        );
        spec.resource_memory_limit = Some(value.clone());
        any = true;
    }
    if let Some(value) = &task.memory_request {
        spec.other.insert(
            "memoryRequest".into(),
            Value::from(memory("memory request", value)?),
        );
        spec.resource_memory_request = Some(value.clone());
        any = true;
    }
    if let Some(count) = task.accelerator_limit {
        let mut accelerator = AcceleratorConfig::default();
        accelerator.resource_count = Some(count.to_string());
        accelerator
            .other
            .insert("count".into(), Value::from(count.to_string()));
        if let Some(kind) = &task.accelerator_type {
            accelerator.resource_type = Some(kind.clone());
            accelerator
                .other
                .insert("type".into(), Value::from(kind.clone()));
        }
        spec.accelerator = Some(accelerator);
        any = true;
    }
    Ok(any.then_some(spec))
}

pub(super) fn parse_cpu(value: &str) -> Option<f64> {
    let (number, milli) = match value.strip_suffix('m') {
        Some(rest) => (rest, true),
        None => (value, false),
    };
    if number.is_empty()
        || !number.chars().all(|c| c.is_ascii_digit() || c == '.')
        || number.ends_with('.')
    {
        return None;
    }
    let parsed: f64 = number.parse().ok()?;
    Some(if milli { parsed / 1000.0 } else { parsed })
}

pub(super) fn parse_memory(value: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 12] = [
        ("Ei", 1152921504606846976.0),
        ("Pi", 1125899906842624.0),
        ("Ti", 1099511627776.0),
        ("Gi", 1073741824.0),
        ("Mi", 1048576.0),
        ("Ki", 1024.0),
        ("E", 1e18),
        ("P", 1e15),
        ("T", 1e12),
        ("G", 1e9),
        ("M", 1e6),
        ("K", 1e3),
    ];
    let (number, factor) = UNITS
        .iter()
        .find_map(|(suffix, factor)| value.strip_suffix(suffix).map(|n| (n, *factor)))
        .unwrap_or((value, 1.0));
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let parsed: f64 = number.parse().ok()?;
    Some(parsed * factor / 1e9)
}
