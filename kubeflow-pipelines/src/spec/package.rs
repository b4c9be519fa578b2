//! [`CompiledPipeline`]: reads and writes the files the official compiler writes.

use std::path::Path;

use serde_json::Value;

use super::error::{ParseError, SpecError};
use super::locate::locate;
use super::{ParameterType, PipelineSpec, PlatformSpec};

/// The text format of a pipeline package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceFormat {
    /// YAML: the `PipelineSpec` document, optionally followed by `---` and a `PlatformSpec`.
    Yaml,
    /// JSON: the `PipelineSpec` object, or `{"pipeline_spec": …, "platform_spec": …}` as the
    /// KFP API server stores a pipeline version with a platform spec.
    Json,
}

/// A compiled pipeline as a file holds it: the [`PipelineSpec`] and, when the pipeline uses
/// kfp-kubernetes features, the [`PlatformSpec`].
///
/// ```
/// use kubeflow_pipelines::spec::CompiledPipeline;
///
/// let yaml = "pipelineInfo:\n  name: p\nroot:\n  dag:\n    tasks: {}\nschemaVersion: 2.1.0\n\
///             ---\nplatforms:\n  kubernetes:\n    deploymentSpec:\n      executors: {}\n";
/// let package = CompiledPipeline::from_yaml_str(yaml)?;
/// assert!(package.platform_spec.is_some());
/// # Ok::<(), kubeflow_pipelines::spec::SpecError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CompiledPipeline {
    /// The compiled pipeline.
    pub pipeline_spec: PipelineSpec,
    /// The platform configuration (second YAML document), if any.
    pub platform_spec: Option<PlatformSpec>,
}

const STRING_SOURCE: &str = "<string>";

impl CompiledPipeline {
    /// A package of a pipeline spec and an optional platform spec.
    pub fn new(pipeline_spec: PipelineSpec, platform_spec: Option<PlatformSpec>) -> Self {
        Self {
            pipeline_spec,
            platform_spec,
        }
    }

    /// Reads the two-document YAML the compiler writes.
    ///
    /// # Errors
    /// [`SpecError::Parse`] naming the document, the path and the line of the bad value, or
    /// [`SpecError::DocumentCount`].
    pub fn from_yaml_str(text: &str) -> Result<Self, SpecError> {
        Self::parse(text, SourceFormat::Yaml, STRING_SOURCE)
    }

    /// Reads JSON: a `PipelineSpec` object, or `{"pipeline_spec": …, "platform_spec": …}`.
    ///
    /// # Errors
    /// [`SpecError::Parse`] naming the path and the line of the bad value.
    pub fn from_json_str(text: &str) -> Result<Self, SpecError> {
        Self::parse(text, SourceFormat::Json, STRING_SOURCE)
    }

    /// Reads a package file; `.json` files are read as JSON, anything else as YAML.
    ///
    /// # Errors
    /// [`SpecError::Io`] when the file cannot be read, else as [`from_yaml_str`](Self::from_yaml_str).
    pub fn read(path: impl AsRef<Path>) -> Result<Self, SpecError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_owned(),
            source,
        })?;
        let format = if path.extension().is_some_and(|ext| ext == "json") {
            SourceFormat::Json
        } else {
            SourceFormat::Yaml
        };
        Self::parse(&text, format, &path.display().to_string())
    }

    /// Reads `text` in `format`; `source_name` names it in errors (e.g. a file path).
    ///
    /// # Errors
    /// As [`from_yaml_str`](Self::from_yaml_str).
    pub fn parse(text: &str, format: SourceFormat, source_name: &str) -> Result<Self, SpecError> {
        let documents = match format {
            SourceFormat::Yaml => parse_yaml_documents(text, source_name)?,
            SourceFormat::Json => parse_json_document(text, source_name)?,
        };
        Self::from_documents(documents, text, source_name)
    }

    fn from_documents(
        documents: Vec<Value>,
        text: &str,
        source_name: &str,
    ) -> Result<Self, SpecError> {
        let count = documents.len();
        if count == 0 || count > 2 {
            return Err(SpecError::DocumentCount {
                source_name: source_name.to_owned(),
                count,
            });
        }
        let mut documents = documents.into_iter();
        let mut package = Self::default();
        if let Some(first) = documents.next() {
            package.pipeline_spec = typed(first, text, 0, "PipelineSpec", source_name)?;
        }
        if let Some(second) = documents.next() {
            package.platform_spec = Some(typed(second, text, 1, "PlatformSpec", source_name)?);
        }
        Ok(package)
    }

    /// The JSON value KFP's REST API carries as a pipeline version's `pipeline_spec`: the
    /// pipeline spec, or `{"pipeline_spec": …, "platform_spec": …}` when there is a platform spec.
    ///
    /// # Errors
    /// [`SpecError::Serialize`] when a value cannot be represented in JSON.
    pub fn to_api_value(&self) -> Result<Value, SpecError> {
        let pipeline = to_value(&self.pipeline_spec)?;
        match &self.platform_spec {
            Some(platform) => {
                let mut object = serde_json::Map::new();
                object.insert("pipeline_spec".to_owned(), pipeline);
                object.insert("platform_spec".to_owned(), to_value(platform)?);
                Ok(Value::Object(object))
            }
            None => Ok(pipeline),
        }
    }

    /// Reads the value KFP's REST API carries as `pipeline_spec` (see
    /// [`to_api_value`](Self::to_api_value)).
    ///
    /// # Errors
    /// [`SpecError::Parse`] naming the path of the bad value.
    pub fn from_api_value(value: Value) -> Result<Self, SpecError> {
        Self::from_documents(split_api_value(value), "", "<pipeline_spec value>")
    }

    /// Writes the package as the compiler does: a comment header, the pipeline spec and, if
    /// any, `---` and the platform spec, with keys sorted.
    ///
    /// # Errors
    /// [`SpecError::Serialize`] when a value cannot be represented in YAML.
    pub fn to_yaml_string(&self) -> Result<String, SpecError> {
        let mut out = header(&self.pipeline_spec);
        out.push_str(&to_yaml(&self.pipeline_spec)?);
        if let Some(platform) = &self.platform_spec {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("---\n");
            out.push_str(&to_yaml(platform)?);
        }
        Ok(out)
    }

    /// Writes the package as pretty JSON: the pipeline spec alone, or
    /// `{"pipeline_spec": …, "platform_spec": …}` when there is a platform spec.
    ///
    /// # Errors
    /// [`SpecError::Serialize`] when a value cannot be represented in JSON.
    pub fn to_json_string(&self) -> Result<String, SpecError> {
        let value = self.to_api_value()?;
        serde_json::to_string_pretty(&value).map_err(|err| SpecError::Serialize(err.to_string()))
    }

    /// Writes the package to `path`: JSON for `.json`, YAML for `.yaml` or `.yml`.
    ///
    /// # Errors
    /// [`SpecError::UnknownExtension`], [`SpecError::Io`] or [`SpecError::Serialize`].
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), SpecError> {
        let path = path.as_ref();
        let text = match path.extension().and_then(|ext| ext.to_str()) {
            Some("json") => self.to_json_string()?,
            Some("yaml" | "yml") => self.to_yaml_string()?,
            _ => return Err(SpecError::UnknownExtension(path.to_owned())),
        };
        std::fs::write(path, text).map_err(|source| SpecError::Io {
            path: path.to_owned(),
            source,
        })
    }
}

impl From<PipelineSpec> for CompiledPipeline {
    fn from(pipeline_spec: PipelineSpec) -> Self {
        Self::new(pipeline_spec, None)
    }
}

/// The JSON form of the spec, e.g. for the KFP REST API's `pipeline_spec` fields. Cannot fail:
/// every map of the IR has string keys and every value is plain JSON.
impl From<&PipelineSpec> for Value {
    fn from(spec: &PipelineSpec) -> Self {
        to_value(spec).unwrap_or(Value::Null)
    }
}

impl From<PipelineSpec> for Value {
    fn from(spec: PipelineSpec) -> Self {
        Value::from(&spec)
    }
}

/// The API form of the package (see [`CompiledPipeline::to_api_value`]).
impl From<&CompiledPipeline> for Value {
    fn from(package: &CompiledPipeline) -> Self {
        package.to_api_value().unwrap_or(Value::Null)
    }
}

impl From<CompiledPipeline> for Value {
    fn from(package: CompiledPipeline) -> Self {
        Value::from(&package)
    }
}

impl TryFrom<Value> for PipelineSpec {
    type Error = SpecError;

    fn try_from(value: Value) -> Result<Self, SpecError> {
        typed(value, "", 0, "PipelineSpec", "<value>")
    }
}

impl TryFrom<Value> for CompiledPipeline {
    type Error = SpecError;

    fn try_from(value: Value) -> Result<Self, SpecError> {
        Self::from_api_value(value)
    }
}

fn split_api_value(value: Value) -> Vec<Value> {
    match value {
        Value::Object(mut object) if object.contains_key("pipeline_spec") => {
            let mut documents = Vec::new();
            if let Some(pipeline) = object.remove("pipeline_spec") {
                documents.push(pipeline);
            }
            if let Some(platform) = object.remove("platform_spec") {
                documents.push(platform);
            }
            documents
        }
        other => vec![other],
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, SpecError> {
    serde_json::to_value(value).map_err(|err| SpecError::Serialize(err.to_string()))
}

/// YAML with keys sorted, like the compiler's output (via a JSON value, whose maps are sorted).
fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String, SpecError> {
    let value = to_value(value)?;
    serde_saphyr::to_string(&value).map_err(|err| SpecError::Serialize(err.to_string()))
}

/// How pipeline YAML is read: YAML 1.2 booleans only, so `y`, `n`, `on`, `off` stay strings as
/// the compiler (PyYAML) meant them.
pub(crate) fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    // The error already names the line and column; no source snippet in the message.
    options.with_snippet = false;
    options
}

fn parse_yaml_documents(text: &str, source_name: &str) -> Result<Vec<Value>, SpecError> {
    match serde_saphyr::from_multiple_with_options::<Value>(text, yaml_options()) {
        Ok(documents) => Ok(documents.into_iter().filter(|doc| !doc.is_null()).collect()),
        Err(err) => {
            let location = err.location();
            let line = location.map(|l| l.line());
            let document = line.map_or(1, |line| document_of_line(text, line));
            Err(SpecError::Parse(Box::new(ParseError {
                source_name: source_name.to_owned(),
                document,
                kind: if document == 1 {
                    "PipelineSpec"
                } else {
                    "PlatformSpec"
                },
                path: String::new(),
                line,
                column: location.map(|l| l.column()),
                message: err.to_string(),
            })))
        }
    }
}

/// The YAML document (from 1) holding `line` (from 1): one plus the `---` lines before it.
fn document_of_line(text: &str, line: u64) -> usize {
    let before = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
    let separators = text
        .lines()
        .take(before)
        .filter(|l| l.trim_end() == "---" || l.starts_with("--- "))
        .count();
    // A leading `---` opens the first document rather than separating two.
    let leading = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .is_some_and(|l| l.trim_end() == "---");
    1 + separators - usize::from(leading && separators > 0)
}

fn parse_json_document(text: &str, source_name: &str) -> Result<Vec<Value>, SpecError> {
    serde_json::from_str::<Value>(text)
        .map(split_api_value)
        .map_err(|err| {
            SpecError::Parse(Box::new(ParseError {
                source_name: source_name.to_owned(),
                document: 1,
                kind: "PipelineSpec",
                path: String::new(),
                line: Some(err.line() as u64),
                column: Some(err.column() as u64),
                message: err.to_string(),
            }))
        })
}

fn typed<T: serde::de::DeserializeOwned>(
    value: Value,
    text: &str,
    document: usize,
    kind: &'static str,
    source_name: &str,
) -> Result<T, SpecError> {
    serde_path_to_error::deserialize(value).map_err(
        |err: serde_path_to_error::Error<serde_json::Error>| {
            let location = if text.is_empty() {
                None
            } else {
                locate(text, document, err.path())
            };
            let path = err.path().to_string();
            SpecError::Parse(Box::new(ParseError {
                source_name: source_name.to_owned(),
                document: document + 1,
                kind,
                path: if path == "." { String::new() } else { path },
                line: location.map(|(line, _)| line),
                column: location.map(|(_, column)| column),
                message: err.into_inner().to_string(),
            }))
        },
    )
}

/// The comment header the compiler writes (`# PIPELINE DEFINITION`, name, inputs, outputs).
fn header(spec: &PipelineSpec) -> String {
    let mut lines = vec!["# PIPELINE DEFINITION".to_owned()];
    if let Some(name) = spec.name() {
        lines.push(format!("# Name: {name}"));
    }
    if let Some(description) = spec
        .pipeline_info
        .as_ref()
        .and_then(|i| i.description.as_deref())
    {
        let joined = description
            .lines()
            .collect::<Vec<_>>()
            .join("\n#              ");
        lines.push(format!("# Description: {joined}"));
    }
    if let Some(root) = &spec.root {
        if let Some(inputs) = &root.input_definitions {
            let mut entries: Vec<(String, String)> = Vec::new();
            for (name, param) in &inputs.parameters {
                let mut text = comment_type(param.parameter_type.as_ref()).to_owned();
                if let Some(default) = &param.default_value {
                    let shown = match default {
                        Value::String(s) => format!("'{s}'"),
                        other => other.to_string(),
                    };
                    text.push_str(&format!(" [Default: {shown}]"));
                }
                entries.push((name.clone(), text));
            }
            for (name, artifact) in &inputs.artifacts {
                let title = artifact
                    .artifact_type
                    .as_ref()
                    .and_then(|t| t.schema_title.clone());
                entries.push((name.clone(), title.unwrap_or_default()));
            }
            push_section(&mut lines, "# Inputs:", entries);
        }
        if let Some(outputs) = &root.output_definitions {
            let mut entries: Vec<(String, String)> = Vec::new();
            for (name, param) in &outputs.parameters {
                entries.push((
                    name.clone(),
                    comment_type(param.parameter_type.as_ref()).to_owned(),
                ));
            }
            for (name, artifact) in &outputs.artifacts {
                let title = artifact
                    .artifact_type
                    .as_ref()
                    .and_then(|t| t.schema_title.clone());
                entries.push((name.clone(), title.unwrap_or_default()));
            }
            push_section(&mut lines, "# Outputs:", entries);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn push_section(lines: &mut Vec<String>, heading: &str, mut entries: Vec<(String, String)>) {
    lines.push(heading.to_owned());
    entries.sort();
    for (name, text) in entries {
        lines.push(format!("#    {name}: {text}"));
    }
}

fn comment_type(parameter_type: Option<&ParameterType>) -> &str {
    match parameter_type {
        Some(ParameterType::NumberDouble) => "float",
        Some(ParameterType::NumberInteger) => "int",
        Some(ParameterType::String) => "str",
        Some(ParameterType::Boolean) => "bool",
        Some(ParameterType::List) => "list",
        Some(ParameterType::Struct) => "dict",
        Some(ParameterType::TaskFinalStatus) => "PipelineTaskFinalStatus",
        Some(other) => other.as_str(),
        None => "",
    }
}
