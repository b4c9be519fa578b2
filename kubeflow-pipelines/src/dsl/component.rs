//! Components: container components with typed inputs, outputs and placeholders, and the
//! importer.

use serde_json::Value;

use crate::spec::{ArtifactTypeSchema, ParameterType};

/// Artifact types of the KFP SDK (`kfp.dsl.types.artifact_types`), schema version `0.0.1`.
pub mod artifact {
    use crate::spec::ArtifactTypeSchema;

    /// `system.Artifact`.
    pub fn artifact() -> ArtifactTypeSchema {
        ArtifactTypeSchema::new("system.Artifact", "0.0.1")
    }
    /// `system.Dataset`.
    pub fn dataset() -> ArtifactTypeSchema {
        ArtifactTypeSchema::new("system.Dataset", "0.0.1")
    }
    /// `system.Model`.
    pub fn model() -> ArtifactTypeSchema {
        ArtifactTypeSchema::new("system.Model", "0.0.1")
    }
    /// `system.Metrics`.
    pub fn metrics() -> ArtifactTypeSchema {
        ArtifactTypeSchema::new("system.Metrics", "0.0.1")
    }
    /// `system.ClassificationMetrics`.
    pub fn classification_metrics() -> ArtifactTypeSchema {
        ArtifactTypeSchema::new("system.ClassificationMetrics", "0.0.1")
    }
    /// `system.SlicedClassificationMetrics`.
    pub fn sliced_classification_metrics() -> ArtifactTypeSchema {
        ArtifactTypeSchema::new("system.SlicedClassificationMetrics", "0.0.1")
    }
    /// `system.HTML`.
    pub fn html() -> ArtifactTypeSchema {
        ArtifactTypeSchema::new("system.HTML", "0.0.1")
    }
    /// `system.Markdown`.
    pub fn markdown() -> ArtifactTypeSchema {
        ArtifactTypeSchema::new("system.Markdown", "0.0.1")
    }
}

/// The type of a component input or output: a parameter or an artifact.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IoKind {
    /// A parameter.
    Parameter {
        /// Its type.
        ty: ParameterType,
        /// Its default value (inputs only).
        default: Option<Value>,
        /// Whether it may be left unset.
        optional: bool,
    },
    /// An artifact.
    Artifact {
        /// Its type.
        ty: ArtifactTypeSchema,
        /// Whether it is a list of artifacts.
        list: bool,
        /// Whether it may be left unset (inputs only).
        optional: bool,
    },
}

impl IoKind {
    /// Whether this is an artifact.
    pub fn is_artifact(&self) -> bool {
        matches!(self, Self::Artifact { .. })
    }

    /// A short description for error messages, e.g. `parameter STRING`, `artifact system.Model`.
    pub fn describe(&self) -> String {
        match self {
            Self::Parameter { ty, .. } => format!("parameter {ty}"),
            Self::Artifact { ty, list, .. } => format!(
                "artifact {}{}",
                ty.schema_title.as_deref().unwrap_or("?"),
                if *list { " list" } else { "" }
            ),
        }
    }
}

/// A part of a command or of the arguments of a container component.
///
/// Placeholders render to the strings the KFP compiler writes, e.g.
/// `{{$.inputs.parameters['text']}}`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Placeholder {
    /// A literal string.
    Literal(String),
    /// The value of an input parameter.
    InputValue(String),
    /// The local path of an input artifact.
    InputPath(String),
    /// The URI of an input artifact.
    InputUri(String),
    /// The metadata (JSON) of an input artifact.
    InputMetadata(String),
    /// The local path where an output artifact is written.
    OutputPath(String),
    /// The URI of an output artifact.
    OutputUri(String),
    /// The file where an output parameter is written (`dsl.OutputPath(str)`).
    OutputParameterFile(String),
    /// The parts joined into one string (`dsl.ConcatPlaceholder`).
    Concat(Vec<Placeholder>),
    /// `then` when the optional input is set, else `otherwise` (`dsl.IfPresentPlaceholder`).
    IfPresent {
        /// The optional input.
        input: String,
        /// Used when it is set.
        then: Vec<Placeholder>,
        /// Used when it is not set (`None`: nothing).
        otherwise: Option<Vec<Placeholder>>,
    },
}

impl Placeholder {
    /// The value of input parameter `name`.
    pub fn input(name: impl Into<String>) -> Self {
        Self::InputValue(name.into())
    }
    /// The path of input artifact `name`.
    pub fn input_path(name: impl Into<String>) -> Self {
        Self::InputPath(name.into())
    }
    /// The URI of input artifact `name`.
    pub fn input_uri(name: impl Into<String>) -> Self {
        Self::InputUri(name.into())
    }
    /// The metadata of input artifact `name`.
    pub fn input_metadata(name: impl Into<String>) -> Self {
        Self::InputMetadata(name.into())
    }
    /// The path of output artifact `name`.
    pub fn output_path(name: impl Into<String>) -> Self {
        Self::OutputPath(name.into())
    }
    /// The URI of output artifact `name`.
    pub fn output_uri(name: impl Into<String>) -> Self {
        Self::OutputUri(name.into())
    }
    /// The file of output parameter `name`.
    pub fn output_file(name: impl Into<String>) -> Self {
        Self::OutputParameterFile(name.into())
    }
    /// The parts joined into one string.
    pub fn concat(parts: impl IntoIterator<Item = impl Into<Placeholder>>) -> Self {
        Self::Concat(parts.into_iter().map(Into::into).collect())
    }
    /// `then` when the optional input is set, else `otherwise`.
    pub fn if_present(
        input: impl Into<String>,
        then: impl IntoIterator<Item = impl Into<Placeholder>>,
        otherwise: Option<Vec<Placeholder>>,
    ) -> Self {
        Self::IfPresent {
            input: input.into(),
            then: then.into_iter().map(Into::into).collect(),
            otherwise,
        }
    }

    /// The string the compiler writes for this placeholder.
    pub fn render(&self) -> String {
        match self {
            Self::Concat(_) | Self::IfPresent { .. } => python_json(&self.to_json()),
            _ => self.simple().unwrap_or_default(),
        }
    }

    fn simple(&self) -> Option<String> {
        Some(match self {
            Self::Literal(text) => text.clone(),
            Self::InputValue(name) => format!("{{{{$.inputs.parameters['{name}']}}}}"),
            Self::InputPath(name) => format!("{{{{$.inputs.artifacts['{name}'].path}}}}"),
            Self::InputUri(name) => format!("{{{{$.inputs.artifacts['{name}'].uri}}}}"),
            Self::InputMetadata(name) => format!("{{{{$.inputs.artifacts['{name}'].metadata}}}}"),
            Self::OutputPath(name) => format!("{{{{$.outputs.artifacts['{name}'].path}}}}"),
            Self::OutputUri(name) => format!("{{{{$.outputs.artifacts['{name}'].uri}}}}"),
            Self::OutputParameterFile(name) => {
                format!("{{{{$.outputs.parameters['{name}'].output_file}}}}")
            }
            Self::Concat(_) | Self::IfPresent { .. } => return None,
        })
    }

    fn to_json(&self) -> Json {
        match self {
            Self::Concat(parts) => Json::Object(vec![(
                "Concat",
                Json::Array(parts.iter().map(Self::to_json).collect()),
            )]),
            Self::IfPresent {
                input,
                then,
                otherwise,
            } => {
                let mut inner = vec![
                    ("InputName", Json::String(input.clone())),
                    (
                        "Then",
                        Json::Array(then.iter().map(Self::to_json).collect()),
                    ),
                ];
                if let Some(otherwise) = otherwise {
                    inner.push((
                        "Else",
                        Json::Array(otherwise.iter().map(Self::to_json).collect()),
                    ));
                }
                Json::Object(vec![("IfPresent", Json::Object(inner))])
            }
            other => Json::String(other.simple().unwrap_or_default()),
        }
    }

    /// Inputs and outputs this placeholder refers to, for validation: `(name, is_output)`.
    pub(crate) fn references(&self, out: &mut Vec<(String, bool, &'static str)>) {
        match self {
            Self::Literal(_) => {}
            Self::InputValue(n) => out.push((n.clone(), false, "parameter")),
            Self::InputPath(n) | Self::InputUri(n) | Self::InputMetadata(n) => {
                out.push((n.clone(), false, "artifact"))
            }
            Self::OutputPath(n) | Self::OutputUri(n) => out.push((n.clone(), true, "artifact")),
            Self::OutputParameterFile(n) => out.push((n.clone(), true, "parameter")),
            Self::Concat(parts) => parts.iter().for_each(|p| p.references(out)),
            Self::IfPresent {
                input,
                then,
                otherwise,
            } => {
                out.push((input.clone(), false, "any"));
                then.iter().for_each(|p| p.references(out));
                otherwise.iter().flatten().for_each(|p| p.references(out));
            }
        }
    }
}

/// JSON with keys in insertion order, as the SDK builds the placeholder dictionaries.
enum Json {
    String(String),
    Array(Vec<Json>),
    Object(Vec<(&'static str, Json)>),
}

/// JSON text as Python's `json.dumps` writes it (`", "` and `": "` separators, keys in
/// insertion order), which is how the compiler embeds Concat and IfPresent placeholders.
fn python_json(value: &Json) -> String {
    match value {
        Json::String(text) => Value::String(text.clone()).to_string(),
        Json::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(python_json).collect::<Vec<_>>().join(", ")
            )
        }
        Json::Object(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String((*k).to_owned()), python_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl From<&str> for Placeholder {
    fn from(text: &str) -> Self {
        Self::Literal(text.to_owned())
    }
}

impl From<String> for Placeholder {
    fn from(text: String) -> Self {
        Self::Literal(text)
    }
}

/// A container component: an image, a command and arguments with placeholders, and typed
/// inputs and outputs (`@dsl.container_component`).
///
/// ```
/// use kubeflow_pipelines::dsl::{ContainerComponent, Placeholder, artifact};
/// use kubeflow_pipelines::spec::ParameterType;
///
/// let producer = ContainerComponent::new("producer", "alpine")
///     .input("text", ParameterType::String)
///     .output_artifact("out", artifact::dataset())
///     .command(["sh", "-c", "mkdir -p $(dirname \"$1\") && echo \"$0\" > \"$1\""])
///     .args([Placeholder::input("text"), Placeholder::output_path("out")]);
/// assert_eq!(producer.name(), "producer");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerComponent {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) image: String,
    pub(crate) command: Vec<Placeholder>,
    pub(crate) args: Vec<Placeholder>,
    pub(crate) inputs: Vec<(String, IoKind)>,
    pub(crate) outputs: Vec<(String, IoKind)>,
    pub(crate) input_descriptions: std::collections::BTreeMap<String, String>,
    pub(crate) output_descriptions: std::collections::BTreeMap<String, String>,
}

impl ContainerComponent {
    /// A component named `name` (tasks are named after it) running `image`.
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
            image: image.into(),
            command: Vec::new(),
            args: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            input_descriptions: Default::default(),
            output_descriptions: Default::default(),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets the command.
    pub fn command(mut self, parts: impl IntoIterator<Item = impl Into<Placeholder>>) -> Self {
        self.command = parts.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the arguments.
    pub fn args(mut self, parts: impl IntoIterator<Item = impl Into<Placeholder>>) -> Self {
        self.args = parts.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a required input parameter.
    pub fn input(mut self, name: impl Into<String>, ty: ParameterType) -> Self {
        self.inputs.push((
            name.into(),
            IoKind::Parameter {
                ty,
                default: None,
                optional: false,
            },
        ));
        self
    }

    /// Adds an input parameter with a default value.
    pub fn input_with_default(
        mut self,
        name: impl Into<String>,
        ty: ParameterType,
        default: impl Into<Value>,
    ) -> Self {
        let default = Some(default.into());
        self.inputs.push((
            name.into(),
            IoKind::Parameter {
                ty,
                default,
                optional: true,
            },
        ));
        self
    }

    /// Adds an optional input parameter without default (`Optional[str] = None`).
    pub fn optional_input(mut self, name: impl Into<String>, ty: ParameterType) -> Self {
        self.inputs.push((
            name.into(),
            IoKind::Parameter {
                ty,
                default: None,
                optional: true,
            },
        ));
        self
    }

    /// Adds an input artifact.
    pub fn input_artifact(mut self, name: impl Into<String>, ty: ArtifactTypeSchema) -> Self {
        self.inputs.push((
            name.into(),
            IoKind::Artifact {
                ty,
                list: false,
                optional: false,
            },
        ));
        self
    }

    /// Adds an input taking a list of artifacts (`Input[List[Dataset]]`).
    pub fn input_artifact_list(mut self, name: impl Into<String>, ty: ArtifactTypeSchema) -> Self {
        self.inputs.push((
            name.into(),
            IoKind::Artifact {
                ty,
                list: true,
                optional: false,
            },
        ));
        self
    }

    /// Adds an output parameter, written to [`Placeholder::output_file`].
    pub fn output(mut self, name: impl Into<String>, ty: ParameterType) -> Self {
        self.outputs.push((
            name.into(),
            IoKind::Parameter {
                ty,
                default: None,
                optional: false,
            },
        ));
        self
    }

    /// Adds an output artifact, written to [`Placeholder::output_path`].
    pub fn output_artifact(mut self, name: impl Into<String>, ty: ArtifactTypeSchema) -> Self {
        self.outputs.push((
            name.into(),
            IoKind::Artifact {
                ty,
                list: false,
                optional: false,
            },
        ));
        self
    }
}

/// Imports an existing artifact by URI (`dsl.importer`); its output is named `artifact`.
#[derive(Debug, Clone, PartialEq)]
pub struct Importer {
    pub(crate) ty: ArtifactTypeSchema,
    pub(crate) reimport: bool,
    pub(crate) metadata: serde_json::Map<String, Value>,
}

impl Importer {
    /// An importer of artifacts of type `ty`.
    pub fn new(ty: ArtifactTypeSchema) -> Self {
        Self {
            ty,
            reimport: false,
            metadata: serde_json::Map::new(),
        }
    }

    /// Imports again even when the artifact is already known.
    pub fn reimport(mut self, reimport: bool) -> Self {
        self.reimport = reimport;
        self
    }

    /// Sets a metadata entry of the imported artifact.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

impl ContainerComponent {
    /// Loads a container component from a component YAML, as `kfp.compiler` writes for a
    /// `@dsl.container_component` (`components.load_component_from_text`).
    ///
    /// Command and arguments are kept as written, placeholders included.
    ///
    /// # Errors
    /// [`DslError::InvalidComponent`](super::DslError::InvalidComponent) when the YAML does not parse or does not hold exactly one
    /// container component.
    pub fn from_yaml_str(text: &str) -> Result<Self, super::DslError> {
        let package = crate::spec::CompiledPipeline::from_yaml_str(text).map_err(|err| {
            super::DslError::InvalidComponent {
                message: err.to_string(),
            }
        })?;
        Self::from_spec(&package.pipeline_spec)
    }

    /// Loads a container component from a compiled component (see
    /// [`from_yaml_str`](Self::from_yaml_str)).
    ///
    /// # Errors
    /// [`DslError::InvalidComponent`](super::DslError::InvalidComponent) when the spec does not hold exactly one container
    /// component.
    pub fn from_spec(spec: &crate::spec::PipelineSpec) -> Result<Self, super::DslError> {
        let invalid = |message: String| super::DslError::InvalidComponent { message };
        let executors = spec.deployment_spec.as_ref().map(|d| &d.executors);
        let mut found = spec.components.values().filter_map(|component| {
            let label = component.executor_label.as_ref()?;
            let container = executors?.get(label)?.container.as_ref()?;
            Some((component, container))
        });
        let (component, container) = match (found.next(), found.next()) {
            (Some(one), None) => one,
            (None, _) => return Err(invalid("the spec holds no container component".into())),
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "the spec holds several container components".into(),
                ));
            }
        };
        let name = spec
            .name()
            .or_else(|| {
                component
                    .executor_label
                    .as_deref()
                    .and_then(|l| l.strip_prefix("exec-"))
            })
            .unwrap_or("component")
            .to_owned();
        let mut loaded = Self::new(name, container.image.clone().unwrap_or_default());
        loaded.command = container
            .command
            .iter()
            .cloned()
            .map(Placeholder::Literal)
            .collect();
        loaded.args = container
            .args
            .iter()
            .cloned()
            .map(Placeholder::Literal)
            .collect();
        if let Some(inputs) = &component.input_definitions {
            for (name, def) in &inputs.parameters {
                let ty = def.parameter_type.clone().unwrap_or(ParameterType::String);
                let optional = def.is_optional.unwrap_or(false) || def.default_value.is_some();
                let kind = IoKind::Parameter {
                    ty,
                    default: def.default_value.clone(),
                    optional,
                };
                loaded.inputs.push((name.clone(), kind));
            }
            for (name, def) in &inputs.artifacts {
                let kind = IoKind::Artifact {
                    ty: def.artifact_type.clone().unwrap_or_else(artifact::artifact),
                    list: def.is_artifact_list.unwrap_or(false),
                    optional: def.is_optional.unwrap_or(false),
                };
                loaded.inputs.push((name.clone(), kind));
            }
        }
        if let Some(outputs) = &component.output_definitions {
            for (name, def) in &outputs.parameters {
                let ty = def.parameter_type.clone().unwrap_or(ParameterType::String);
                loaded.outputs.push((
                    name.clone(),
                    IoKind::Parameter {
                        ty,
                        default: None,
                        optional: false,
                    },
                ));
            }
            for (name, def) in &outputs.artifacts {
                let kind = IoKind::Artifact {
                    ty: def.artifact_type.clone().unwrap_or_else(artifact::artifact),
                    list: def.is_artifact_list.unwrap_or(false),
                    optional: false,
                };
                loaded.outputs.push((name.clone(), kind));
            }
        }
        Ok(loaded)
    }
}
