//! Lightweight Python components authored from Rust (`@dsl.component`): the Python function's
//! source is embedded in the component, which installs its packages and runs it with the KFP
//! executor, exactly as the official SDK writes it.

mod docstring;
mod expr;
mod parse;

use std::collections::BTreeMap;

use super::DslError;
use super::component::{ContainerComponent, IoKind, Placeholder, artifact};
use super::pipeline::Task;
use crate::spec::{ArtifactTypeSchema, ParameterType};
use expr::Py;
use parse::{FunctionDef, python_repr};

/// The KFP SDK version installed in the container to run the function (`kfp==…`), the
/// version whose compiler output this crate reproduces.
pub const KFP_RUNTIME_VERSION: &str = "2.17.3";

/// The base image used when none is set (the SDK's default).
pub const DEFAULT_BASE_IMAGE: &str = "python:3.11";

/// A lightweight Python component: a Python function run in `base_image` by the KFP executor
/// (`@dsl.component`).
///
/// The inputs and outputs are read from the function's signature, as the SDK reads them:
/// parameters `str`, `int`, `float`, `bool`, `list`/`List[...]`, `dict`/`Dict[...]` (with
/// literal defaults, `Optional[...]` allowed), artifacts `Input[Dataset]`,
/// `Input[List[Model]]`, bare `Dataset`, `Output[Model]`, `Output[Metrics]`, …,
/// `InputPath(...)` / `OutputPath(...)`, `PipelineTaskFinalStatus`, and the return annotation
/// (a parameter or artifact type, named `Output`, or `NamedTuple('Outputs', [('a', int), ...])`
/// / `NamedTuple('Outputs', a=int)`). Descriptions come from the docstring's `Args:` and
/// `Returns:` sections. Annotations outside this set are reported as errors.
///
/// ```
/// use kubeflow_pipelines::dsl::{Pipeline, PythonComponent};
/// use kubeflow_pipelines::spec::ParameterType;
///
/// let add = PythonComponent::new("add", r#"
/// def add(a: int, b: int = 2) -> int:
///     return a + b
/// "#)?
/// .base_image("python:3.12");
/// let mut pipeline = Pipeline::new("sum");
/// let x = pipeline.parameter_with_default("x", ParameterType::NumberInteger, 1);
/// let first = pipeline.add(add.task().arg("a", &x));
/// pipeline.add(add.task().arg("a", first.output("Output")).arg("b", 40));
/// assert!(pipeline.compile().is_ok());
/// # Ok::<(), kubeflow_pipelines::dsl::DslError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PythonComponent {
    function: FunctionDef,
    inputs: Vec<(String, IoKind)>,
    outputs: Vec<(String, IoKind)>,
    input_descriptions: BTreeMap<String, String>,
    output_descriptions: BTreeMap<String, String>,
    base_image: String,
    packages_to_install: Vec<String>,
    pip_index_urls: Vec<String>,
    pip_trusted_hosts: Option<Vec<String>>,
    use_venv: bool,
    install_kfp_package: bool,
    kfp_package_path: Option<String>,
}

impl PythonComponent {
    /// The component running Python function `function`, whose source (one `def`, decorators
    /// and indentation allowed) is `source`.
    ///
    /// # Errors
    /// [`DslError::InvalidPythonComponent`] when the source holds no `def function(...)`, or
    /// a parameter has no annotation or one outside the supported set, or a default is not a
    /// literal.
    pub fn new(function: impl Into<String>, source: &str) -> Result<Self, DslError> {
        let function = function.into();
        let invalid = |message: String| DslError::InvalidPythonComponent {
            function: function.clone(),
            message,
        };
        let def = parse::function_def(source).map_err(invalid)?;
        if def.name != function {
            return Err(invalid(format!(
                "the source defines `{}`, not `{function}`",
                def.name
            )));
        }
        let (inputs, outputs) = signature(&def).map_err(invalid)?;
        let (input_descriptions, output_descriptions) =
            docstring::descriptions(def.docstring.as_deref());
        Ok(Self {
            function: def,
            inputs,
            outputs,
            input_descriptions,
            output_descriptions,
            base_image: DEFAULT_BASE_IMAGE.to_owned(),
            packages_to_install: Vec::new(),
            pip_index_urls: Vec::new(),
            pip_trusted_hosts: None,
            use_venv: false,
            install_kfp_package: true,
            kfp_package_path: None,
        })
    }

    /// The function's name (tasks are named after it, `_` becoming `-`).
    pub fn name(&self) -> &str {
        &self.function.name
    }

    /// The inputs read from the signature.
    pub fn inputs(&self) -> &[(String, IoKind)] {
        &self.inputs
    }

    /// The outputs read from the signature.
    pub fn outputs(&self) -> &[(String, IoKind)] {
        &self.outputs
    }

    /// The image the function runs in (default [`DEFAULT_BASE_IMAGE`]).
    pub fn base_image(mut self, image: impl Into<String>) -> Self {
        self.base_image = image.into();
        self
    }

    /// Packages installed with pip before the function runs (`packages_to_install`).
    pub fn packages_to_install(
        mut self,
        packages: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.packages_to_install = packages.into_iter().map(Into::into).collect();
        self
    }

    /// Package indexes for pip: the first is `--index-url`, the others `--extra-index-url`
    /// (`pip_index_urls`). Unless [`pip_trusted_hosts`](Self::pip_trusted_hosts) is set they
    /// are also trusted hosts, as in the SDK.
    pub fn pip_index_urls(mut self, urls: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.pip_index_urls = urls.into_iter().map(Into::into).collect();
        self
    }

    /// The `--trusted-host` values (`pip_trusted_hosts`); empty for none.
    pub fn pip_trusted_hosts(mut self, hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.pip_trusted_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Installs the KFP package into a fresh virtual environment (`use_venv`).
    pub fn use_venv(mut self, enabled: bool) -> Self {
        self.use_venv = enabled;
        self
    }

    /// Whether to install the KFP package at start (`install_kfp_package`, default true);
    /// turn it off when the image already has it.
    pub fn install_kfp_package(mut self, enabled: bool) -> Self {
        self.install_kfp_package = enabled;
        self
    }

    /// Installs KFP from this pip requirement instead of `kfp==`[`KFP_RUNTIME_VERSION`]
    /// (`kfp_package_path`).
    pub fn kfp_package_path(mut self, path: impl Into<String>) -> Self {
        self.kfp_package_path = Some(path.into());
        self
    }

    /// A task running this component; set its inputs with [`Task::arg`].
    pub fn task(&self) -> Task {
        self.to_container().task()
    }

    /// The container component the SDK compiles this function to: the pip-install shell,
    /// the embedded program and `--executor_input {{$}} --function_to_execute <name>`.
    pub fn to_container(&self) -> ContainerComponent {
        let mut command: Vec<Placeholder> = self
            .install_command()
            .into_iter()
            .map(Placeholder::Literal)
            .collect();
        command.extend(
            [
                "sh".to_owned(),
                "-ec".to_owned(),
                concat!(
                    "program_path=$(mktemp -d)\n\n",
                    "printf \"%s\" \"$0\" > \"$program_path/ephemeral_component.py\"\n",
                    "_KFP_RUNTIME=true python3 -m kfp.dsl.executor_main",
                    "                         --component_module_path",
                    "                         \"$program_path/ephemeral_component.py\"",
                    "                         \"$@\"\n",
                )
                .to_owned(),
                format!(
                    "\nimport kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\nfrom typing import *\n\n{}\n",
                    self.function.source
                ),
            ]
            .map(Placeholder::Literal),
        );
        let mut component = ContainerComponent::new(self.function.name.clone(), &self.base_image)
            .command(command)
            .args([
                "--executor_input",
                "{{$}}",
                "--function_to_execute",
                &self.function.name,
            ]);
        component.inputs = self.inputs.clone();
        component.outputs = self.outputs.clone();
        component.input_descriptions = self.input_descriptions.clone();
        component.output_descriptions = self.output_descriptions.clone();
        component
    }

    /// `sh -c <pip install script>`, or nothing when there is nothing to install.
    fn install_command(&self) -> Vec<String> {
        let user_has_kfp = self
            .packages_to_install
            .iter()
            .any(|p| p.starts_with("kfp"));
        let inject_kfp = self.install_kfp_package && !user_has_kfp;
        if !inject_kfp && self.packages_to_install.is_empty() {
            return Vec::new();
        }
        let index_options = self.index_url_options();
        let pip = |parts: &[String]| {
            let packages = parts
                .iter()
                .map(|p| python_repr(p))
                .collect::<Vec<_>>()
                .join(" ");
            format!(
                "python3 -m pip install --quiet --no-warn-script-location {index_options}{packages}"
            )
        };
        let mut commands = Vec::new();
        if !self.packages_to_install.is_empty() {
            commands.push(pip(&self.packages_to_install));
            if inject_kfp {
                commands.push(" && ".to_owned());
            }
        }
        if inject_kfp {
            if self.use_venv {
                commands.push(
                    "\nexport PIP_DISABLE_PIP_VERSION_CHECK=1\ntmp=$(mktemp -d)\npython3 -m venv \"$tmp/venv\" --system-site-packages\n. \"$tmp/venv/bin/activate\"\n"
                        .to_owned(),
                );
            }
            let parts = match &self.kfp_package_path {
                Some(path) => {
                    let mut parts = vec![path.clone()];
                    if path.contains("@refs/pull/") {
                        parts.push("--no-deps".to_owned());
                    }
                    parts
                }
                None => vec![
                    format!("kfp=={KFP_RUNTIME_VERSION}"),
                    "--no-deps".to_owned(),
                    "typing-extensions>=3.7.4,<5; python_version<\"3.9\"".to_owned(),
                ],
            };
            commands.push(pip(&parts));
        }
        vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!(
                "\nif ! [ -x \"$(command -v pip)\" ]; then\n    python3 -m ensurepip || python3 -m ensurepip --user || apt-get install python3-pip\nfi\n\nPIP_DISABLE_PIP_VERSION_CHECK=1 {} && \"$0\" \"$@\"\n",
                commands.join(" ")
            ),
        ]
    }

    fn index_url_options(&self) -> String {
        let Some((index, extra)) = self.pip_index_urls.split_first() else {
            return String::new();
        };
        let mut options = vec![format!("--index-url {index}")];
        options.extend(extra.iter().map(|u| format!("--extra-index-url {u}")));
        match &self.pip_trusted_hosts {
            None => options.extend(
                self.pip_index_urls
                    .iter()
                    .map(|u| format!("--trusted-host {u}")),
            ),
            Some(hosts) => options.extend(hosts.iter().map(|h| format!("--trusted-host {h}"))),
        }
        format!("{} ", options.join(" "))
    }
}

impl From<&PythonComponent> for ContainerComponent {
    fn from(component: &PythonComponent) -> Self {
        component.to_container()
    }
}

/// The artifact class named `name` (`Dataset`, `Model`, …).
fn artifact_class(name: &str) -> Option<ArtifactTypeSchema> {
    Some(match name {
        "Artifact" => artifact::artifact(),
        "Dataset" => artifact::dataset(),
        "Model" => artifact::model(),
        "Metrics" => artifact::metrics(),
        "ClassificationMetrics" => artifact::classification_metrics(),
        "SlicedClassificationMetrics" => artifact::sliced_classification_metrics(),
        "HTML" => artifact::html(),
        "Markdown" => artifact::markdown(),
        _ => return None,
    })
}

/// The parameter type of an annotation (`str`, `List[int]`, …).
fn parameter_type(annotation: &Py) -> Option<ParameterType> {
    let name = match annotation {
        Py::Name(name) => name.as_str(),
        Py::Subscript(inner, _) => match inner.as_ref() {
            Py::Name(name) if matches!(name.as_str(), "List" | "list" | "Dict" | "dict") => name,
            _ => return None,
        },
        // InputPath('String') and the like.
        Py::Str(name) => name.as_str(),
        _ => return None,
    };
    Some(match name {
        "str" | "String" => ParameterType::String,
        "int" | "Integer" => ParameterType::NumberInteger,
        "float" | "Float" => ParameterType::NumberDouble,
        "bool" | "Boolean" => ParameterType::Boolean,
        "list" | "List" | "JsonArray" => ParameterType::List,
        "dict" | "Dict" | "JsonObject" => ParameterType::Struct,
        "PipelineTaskFinalStatus" => ParameterType::TaskFinalStatus,
        _ => return None,
    })
}

/// An artifact annotation: `Dataset` or `List[Dataset]` → `(type, is_list)`.
fn artifact_type(annotation: &Py) -> Option<(ArtifactTypeSchema, bool)> {
    match annotation {
        Py::Name(name) | Py::Str(name) => artifact_class(name).map(|ty| (ty, false)),
        Py::Subscript(inner, items) if matches!(inner.head(), Some("List" | "list")) => {
            match items.as_slice() {
                [Py::Name(name)] => artifact_class(name).map(|ty| (ty, true)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn strip_optional(annotation: Py) -> Py {
    match annotation {
        Py::Subscript(inner, mut items) if inner.head() == Some("Optional") && items.len() == 1 => {
            items.pop().unwrap_or(Py::None)
        }
        other => other,
    }
}

fn one_argument(items: &[Py]) -> Option<&Py> {
    match items {
        [one] => Some(one),
        _ => None,
    }
}

/// Inputs and outputs from the signature.
#[allow(clippy::type_complexity)]
fn signature(def: &FunctionDef) -> Result<(Vec<(String, IoKind)>, Vec<(String, IoKind)>), String> {
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    for param in &def.params {
        let name = &param.name;
        if name == "Output" {
            return Err("\"Output\" is an invalid parameter name".into());
        }
        let text = param
            .annotation
            .as_deref()
            .ok_or_else(|| format!("parameter {name} has no type annotation"))?;
        let unsupported = || format!("parameter {name}: unsupported annotation `{text}`");
        let annotation =
            strip_optional(expr::expression(text).map_err(|e| format!("parameter {name}: {e}"))?);
        let default = match &param.default {
            None => None,
            Some(text) => Some(
                expr::expression(text)
                    .ok()
                    .and_then(|d| d.to_json())
                    .ok_or_else(|| {
                        format!("parameter {name}: the default `{text}` is not a literal")
                    })?,
            ),
        };
        let has_default = default.is_some();
        let artifact_input = |(ty, list): (ArtifactTypeSchema, bool)| -> Result<IoKind, String> {
            if default.as_ref().is_some_and(|d| !d.is_null()) {
                return Err(format!(
                    "parameter {name}: optional input artifacts may only default to None"
                ));
            }
            Ok(IoKind::Artifact {
                ty,
                list,
                optional: has_default,
            })
        };
        let (is_output, kind) = match &annotation {
            Py::Subscript(inner, items) if matches!(inner.head(), Some("Input" | "Output")) => {
                let found = one_argument(items)
                    .and_then(artifact_type)
                    .ok_or_else(unsupported)?;
                if inner.head() == Some("Output") {
                    let (ty, list) = found;
                    (
                        true,
                        IoKind::Artifact {
                            ty,
                            list,
                            optional: false,
                        },
                    )
                } else {
                    (false, artifact_input(found)?)
                }
            }
            Py::Call(inner, args, kwargs)
                if matches!(inner.head(), Some("InputPath" | "OutputPath"))
                    && kwargs.is_empty() =>
            {
                let is_output = inner.head() == Some("OutputPath");
                let arg = one_argument(args).ok_or_else(unsupported)?;
                let kind = if let Some(ty) = parameter_type(arg) {
                    IoKind::Parameter {
                        ty,
                        default: if is_output {
                            None
                        } else {
                            default.clone().filter(|d| !d.is_null())
                        },
                        optional: !is_output && has_default,
                    }
                } else if let Some(found) = artifact_type(arg) {
                    if is_output {
                        IoKind::Artifact {
                            ty: found.0,
                            list: found.1,
                            optional: false,
                        }
                    } else {
                        artifact_input(found)?
                    }
                } else {
                    return Err(unsupported());
                };
                (is_output, kind)
            }
            other => {
                if let Some(found) = artifact_type(other) {
                    (false, artifact_input(found)?)
                } else if let Some(ty) = parameter_type(other) {
                    let default = default.clone().filter(|d| !d.is_null());
                    (
                        false,
                        IoKind::Parameter {
                            ty,
                            default,
                            optional: has_default,
                        },
                    )
                } else {
                    return Err(unsupported());
                }
            }
        };
        let list = if is_output { &mut outputs } else { &mut inputs };
        list.push((unique_name(name, list), kind));
    }

    if let Some(text) = &def.returns {
        let unsupported = || format!("unsupported return annotation `{text}`");
        let annotation = expr::expression(text).map_err(|e| format!("return annotation: {e}"))?;
        let output_kind = |annotation: &Py| -> Option<IoKind> {
            if let Some((ty, list)) = artifact_type(annotation) {
                return Some(IoKind::Artifact {
                    ty,
                    list,
                    optional: false,
                });
            }
            parameter_type(annotation).map(|ty| IoKind::Parameter {
                ty,
                default: None,
                optional: false,
            })
        };
        match &annotation {
            Py::None => {}
            Py::Call(inner, args, kwargs) if inner.head() == Some("NamedTuple") => {
                let mut fields: Vec<(String, &Py)> = Vec::new();
                match args.as_slice() {
                    [Py::Str(_)] => {}
                    [Py::Str(_), Py::List(items) | Py::Tuple(items)] => {
                        for item in items {
                            match item {
                                Py::Tuple(pair) => match pair.as_slice() {
                                    [Py::Str(field), ty] => fields.push((field.clone(), ty)),
                                    _ => return Err(unsupported()),
                                },
                                _ => return Err(unsupported()),
                            }
                        }
                    }
                    _ => return Err(unsupported()),
                }
                fields.extend(kwargs.iter().map(|(k, v)| (k.clone(), v)));
                for (field, ty) in fields {
                    let kind = output_kind(ty).ok_or_else(|| {
                        format!("output {field}: unsupported annotation in `{text}`")
                    })?;
                    let name = unique_name(&field, &outputs);
                    outputs.push((name, kind));
                }
            }
            other => {
                let kind = output_kind(other).ok_or_else(unsupported)?;
                let name = unique_name("Output", &outputs);
                outputs.push((name, kind));
            }
        }
    }
    Ok((inputs, outputs))
}

/// `name`, or `name_2`, `name_3`, … when taken (`maybe_make_unique`).
fn unique_name(name: &str, taken: &[(String, IoKind)]) -> String {
    let is_taken = |candidate: &str| taken.iter().any(|(n, _)| n == candidate);
    if !is_taken(name) {
        return name.to_owned();
    }
    (2..)
        .map(|i| format!("{name}_{i}"))
        .find(|candidate| !is_taken(candidate))
        .unwrap_or_else(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_signature() {
        let c = PythonComponent::new(
            "train",
            "def train(data: Input[Dataset], model: Output[Model], lr: float = 0.1, tags: Optional[List[str]] = None) -> NamedTuple('O', [('acc', float)], m=Metrics):\n    pass\n",
        )
        .unwrap();
        let names: Vec<_> = c.inputs().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["data", "lr", "tags"]);
        let outputs: Vec<_> = c.outputs().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(outputs, ["model", "acc", "m"]);
        assert_eq!(
            c.inputs()[2].1,
            IoKind::Parameter {
                ty: ParameterType::List,
                default: None,
                optional: true
            }
        );
    }

    #[test]
    fn reports_what_it_cannot_read() {
        let err = |name: &str, source: &str| match PythonComponent::new(name, source) {
            Err(DslError::InvalidPythonComponent { message, .. }) => message,
            other => panic!("expected an error, got {other:?}"),
        };
        assert!(err("f", "def g(a: int):\n  pass").contains("defines `g`, not `f`"));
        assert!(err("f", "def f(a):\n  pass").contains("a has no type annotation"));
        assert!(
            err("f", "def f(a: numpy.ndarray):\n  pass")
                .contains("unsupported annotation `numpy.ndarray`")
        );
        assert!(err("f", "def f(a: int = x + 1):\n  pass").contains("is not a literal"));
        assert!(
            err("f", "def f(a: Input[Model] = 3):\n  pass").contains("may only default to None")
        );
        assert!(err("f", "def f(*args: int):\n  pass").contains("*args"));
        assert!(err("f", "x = 1\n").contains("no `def` line"));
        assert!(err("f", "def f(a: int) -> Foo:\n  pass").contains("unsupported return"));
    }

    #[test]
    fn writes_the_pip_command_as_the_sdk() {
        let c = PythonComponent::new("f", "def f():\n  pass")
            .unwrap()
            .packages_to_install(["pandas"])
            .pip_index_urls(["https://a/simple", "https://b/simple"]);
        let command = c.install_command();
        assert_eq!(command[..2], ["sh", "-c"]);
        assert!(command[2].contains(
            "--index-url https://a/simple --extra-index-url https://b/simple --trusted-host https://a/simple --trusted-host https://b/simple 'pandas'  &&  python3"
        ));
        let none = PythonComponent::new("f", "def f():\n  pass")
            .unwrap()
            .install_kfp_package(false);
        assert!(none.install_command().is_empty());
    }
}
