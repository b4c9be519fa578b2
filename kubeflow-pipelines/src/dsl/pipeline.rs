//! Pipelines: parameters, tasks, their wiring, conditions and exit handlers.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::component::{ContainerComponent, Importer};
use crate::spec::ParameterType;

static NEXT_PIPELINE_ID: AtomicU64 = AtomicU64::new(1);

/// Where the value of a task input comes from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Source {
    /// A constant.
    Constant(Value),
    /// A pipeline parameter (see [`Pipeline::parameter`]).
    Parameter(PipelineParam),
    /// An output (parameter or artifact) of another task.
    TaskOutput {
        /// The producing task.
        task: TaskHandle,
        /// Its output.
        key: String,
    },
    /// The current item of a `ParallelFor` loop (see [`Pipeline::parallel_for`]).
    LoopItem(LoopItem),
    /// The outputs of all iterations of a task inside a `ParallelFor` loop, as a list
    /// (`dsl.Collected`), used after the loop.
    Collected {
        /// The task inside the loop.
        task: TaskHandle,
        /// Its output.
        key: String,
    },
    /// The output of whichever branch of an if / elif / else chain ran (`dsl.OneOf`), made
    /// with [`Pipeline::one_of`].
    OneOf {
        /// The pipeline it belongs to.
        pipeline: u64,
        /// Its number in the pipeline, from 1.
        id: usize,
        /// One output per branch.
        sources: Vec<Source>,
    },
}

/// The current item of a `ParallelFor` loop; pass it as a task input inside the loop.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopItem {
    pub(crate) pipeline: u64,
    pub(crate) group: usize,
    pub(crate) name: String,
    pub(crate) ty: ParameterType,
    pub(crate) field: Option<String>,
    /// The artifact type, when looping over a list of artifacts.
    pub(crate) artifact: Option<crate::spec::ArtifactTypeSchema>,
}

impl LoopItem {
    /// Field `name` of the current item, when items are JSON objects (`item.name` in Python):
    /// a string, read with `parseJson(string_value)["name"]`.
    pub fn field(&self, name: impl Into<String>) -> LoopItem {
        LoopItem {
            field: Some(name.into()),
            ..self.clone()
        }
    }
}

impl From<LoopItem> for Source {
    fn from(value: LoopItem) -> Self {
        Self::LoopItem(value)
    }
}
impl From<&LoopItem> for Source {
    fn from(value: &LoopItem) -> Self {
        Self::LoopItem(value.clone())
    }
}

impl From<Value> for Source {
    fn from(value: Value) -> Self {
        Self::Constant(value)
    }
}
impl From<&str> for Source {
    fn from(value: &str) -> Self {
        Self::Constant(Value::from(value))
    }
}
impl From<String> for Source {
    fn from(value: String) -> Self {
        Self::Constant(Value::from(value))
    }
}
impl From<i64> for Source {
    fn from(value: i64) -> Self {
        Self::Constant(Value::from(value))
    }
}
impl From<i32> for Source {
    fn from(value: i32) -> Self {
        Self::Constant(Value::from(value))
    }
}
impl From<f64> for Source {
    fn from(value: f64) -> Self {
        Self::Constant(Value::from(value))
    }
}
impl From<bool> for Source {
    fn from(value: bool) -> Self {
        Self::Constant(Value::from(value))
    }
}
impl From<PipelineParam> for Source {
    fn from(value: PipelineParam) -> Self {
        Self::Parameter(value)
    }
}
impl From<&PipelineParam> for Source {
    fn from(value: &PipelineParam) -> Self {
        Self::Parameter(value.clone())
    }
}

/// A pipeline parameter, returned by [`Pipeline::parameter`]; pass it as a task input.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineParam {
    pub(crate) pipeline: u64,
    pub(crate) name: String,
}

impl PipelineParam {
    /// The parameter's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A task added to a pipeline, returned by [`Pipeline::add`]; use it for outputs and `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskHandle {
    pub(crate) pipeline: u64,
    pub(crate) index: usize,
    pub(crate) name: String,
}

impl TaskHandle {
    /// The task's name in the DAG (e.g. `train-2`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Output `key` of this task (a parameter or an artifact).
    pub fn output(&self, key: impl Into<String>) -> Source {
        Source::TaskOutput {
            task: self.clone(),
            key: key.into(),
        }
    }

    /// Output `key` of every iteration of this task, which runs inside a `ParallelFor` loop, as
    /// a list for a task after the loop (`dsl.Collected`).
    pub fn collected(&self, key: impl Into<String>) -> Source {
        Source::Collected {
            task: self.clone(),
            key: key.into(),
        }
    }
}

/// Retries of a task (`task.set_retry`).
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    pub(crate) max_retry_count: i32,
    pub(crate) backoff_duration: String,
    pub(crate) backoff_factor: f64,
    pub(crate) backoff_max_duration: String,
}

impl Retry {
    /// Retry up to `count` times, with the SDK's defaults: no initial backoff, factor 2, at
    /// most one hour.
    pub fn times(count: i32) -> Self {
        Self {
            max_retry_count: count,
            backoff_duration: "0s".into(),
            backoff_factor: 2.0,
            backoff_max_duration: "3600s".into(),
        }
    }
    /// Initial backoff, a duration such as `60s`.
    pub fn backoff(mut self, duration: impl Into<String>) -> Self {
        self.backoff_duration = duration.into();
        self
    }
    /// Backoff multiplier.
    pub fn factor(mut self, factor: f64) -> Self {
        self.backoff_factor = factor;
        self
    }
    /// Longest backoff, a duration such as `3600s` (the SDK caps it at one hour).
    pub fn max_backoff(mut self, duration: impl Into<String>) -> Self {
        self.backoff_max_duration = duration.into();
        self
    }
}

/// What a task runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TaskComponent {
    Container(ContainerComponent),
    Importer(Importer),
    /// A pipeline used as a component.
    Pipeline(Box<Pipeline>),
}

/// A task: a component with its inputs and options, not yet added to a pipeline.
///
/// ```
/// use kubeflow_pipelines::dsl::{ContainerComponent, Placeholder, Retry};
/// use kubeflow_pipelines::spec::ParameterType;
///
/// let say = ContainerComponent::new("say", "alpine")
///     .input("msg", ParameterType::String)
///     .command(["echo"])
///     .args([Placeholder::input("msg")]);
/// let task = say.task().arg("msg", "hello").cpu_limit("500m").retry(Retry::times(2)).caching(false);
/// # let _ = task;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub(crate) component: TaskComponent,
    pub(crate) args: Vec<(String, Source)>,
    pub(crate) after: Vec<TaskHandle>,
    pub(crate) display_name: Option<String>,
    pub(crate) caching: bool,
    pub(crate) retry: Option<Retry>,
    pub(crate) cpu_limit: Option<String>,
    pub(crate) cpu_request: Option<String>,
    pub(crate) memory_limit: Option<String>,
    pub(crate) memory_request: Option<String>,
    pub(crate) accelerator_type: Option<String>,
    pub(crate) accelerator_limit: Option<u32>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) kubernetes: Vec<super::kubernetes::KubernetesSetting>,
}

impl Task {
    pub(crate) fn new(component: TaskComponent) -> Self {
        Self {
            component,
            args: Vec::new(),
            after: Vec::new(),
            display_name: None,
            caching: true,
            retry: None,
            cpu_limit: None,
            cpu_request: None,
            memory_limit: None,
            memory_request: None,
            accelerator_type: None,
            accelerator_limit: None,
            env: Vec::new(),
            kubernetes: Vec::new(),
        }
    }

    /// Sets input `name` from a constant, a pipeline parameter or another task's output.
    pub fn arg(mut self, name: impl Into<String>, source: impl Into<Source>) -> Self {
        self.args.push((name.into(), source.into()));
        self
    }
    /// Runs after `task` even without a data dependency.
    pub fn after(mut self, task: &TaskHandle) -> Self {
        self.after.push(task.clone());
        self
    }
    /// Sets the name shown in the UI (`taskInfo.name`).
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }
    /// Enables or disables reuse of cached results (enabled by default).
    pub fn caching(mut self, enabled: bool) -> Self {
        self.caching = enabled;
        self
    }
    /// Sets retries.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = Some(retry);
        self
    }
    /// CPU limit, e.g. `2` or `500m`.
    pub fn cpu_limit(mut self, cpu: impl Into<String>) -> Self {
        self.cpu_limit = Some(cpu.into());
        self
    }
    /// CPU request.
    pub fn cpu_request(mut self, cpu: impl Into<String>) -> Self {
        self.cpu_request = Some(cpu.into());
        self
    }
    /// Memory limit, e.g. `4G` or `512Mi`.
    pub fn memory_limit(mut self, memory: impl Into<String>) -> Self {
        self.memory_limit = Some(memory.into());
        self
    }
    /// Memory request.
    pub fn memory_request(mut self, memory: impl Into<String>) -> Self {
        self.memory_request = Some(memory.into());
        self
    }
    /// Accelerator type, e.g. `nvidia.com/gpu`.
    pub fn accelerator_type(mut self, kind: impl Into<String>) -> Self {
        self.accelerator_type = Some(kind.into());
        self
    }
    /// Number of accelerators.
    pub fn accelerator_limit(mut self, count: u32) -> Self {
        self.accelerator_limit = Some(count);
        self
    }
    /// Sets an environment variable of the container.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }
}

impl ContainerComponent {
    /// A task running this component; set its inputs with [`Task::arg`].
    pub fn task(&self) -> Task {
        Task::new(TaskComponent::Container(self.clone()))
    }
}

impl Importer {
    /// A task importing the artifact at `uri` (a constant or a pipeline parameter).
    pub fn task(&self, uri: impl Into<Source>) -> Task {
        Task::new(TaskComponent::Importer(self.clone())).arg("uri", uri)
    }
}

/// A comparison between two values, for conditions (`dsl.If(a == b)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub(crate) left: Source,
    pub(crate) operator: &'static str,
    pub(crate) right: Source,
}

macro_rules! comparison {
    ($($(#[$doc:meta])* $fn:ident => $op:literal,)*) => {
        impl Condition {
            $(
                $(#[$doc])*
                pub fn $fn(left: impl Into<Source>, right: impl Into<Source>) -> Self {
                    Self { left: left.into(), operator: $op, right: right.into() }
                }
            )*
        }
    };
}

comparison! {
    /// `left == right`.
    eq => "==",
    /// `left != right`.
    ne => "!=",
    /// `left < right`.
    lt => "<",
    /// `left <= right`.
    le => "<=",
    /// `left > right`.
    gt => ">",
    /// `left >= right`.
    ge => ">=",
}

#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // a handful per pipeline
pub(crate) enum GroupKind {
    Root,
    Branches,
    /// The conditions, each possibly negated (elif and else negate the earlier branches).
    Condition(Vec<(Condition, bool)>),
    ExitHandler {
        exit_task: usize,
    },
    Loop {
        items: LoopItems,
        item_name: String,
        item_type: ParameterType,
        parallelism: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LoopItems {
    Raw(Vec<Value>),
    Source(Source),
    /// A pipeline input holding a list of artifacts.
    Artifacts(Source),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
    pub(crate) parent: Option<usize>,
    pub(crate) kind: GroupKind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskNode {
    pub(crate) name: String,
    pub(crate) task: Task,
    pub(crate) group: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamDef {
    pub(crate) name: String,
    pub(crate) ty: ParameterType,
    pub(crate) default: Option<Value>,
    /// For an input artifact: its type and whether it is a list.
    pub(crate) artifact: Option<(crate::spec::ArtifactTypeSchema, bool)>,
}

/// A pipeline being built: parameters, tasks, conditions and exit handlers. Compile it with
/// [`Pipeline::compile`].
///
/// Tasks can only use outputs of tasks added before them, so a pipeline has no cycles by
/// construction.
///
/// ```
/// use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline, Placeholder, artifact};
/// use kubeflow_pipelines::spec::ParameterType;
///
/// let producer = ContainerComponent::new("producer", "alpine")
///     .input("text", ParameterType::String)
///     .output_artifact("out", artifact::dataset())
///     .command(["sh", "-c", "echo \"$0\" > \"$1\""])
///     .args([Placeholder::input("text"), Placeholder::output_path("out")]);
/// let consumer = ContainerComponent::new("consumer", "alpine")
///     .input_artifact("data", artifact::dataset())
///     .command(["cat"])
///     .args([Placeholder::input_path("data")]);
///
/// let mut pipeline = Pipeline::new("two-step");
/// let text = pipeline.parameter_with_default("text", ParameterType::String, "hi");
/// let first = pipeline.add(producer.task().arg("text", &text));
/// pipeline.add(consumer.task().arg("data", first.output("out")));
/// let spec = pipeline.compile()?;
/// assert_eq!(spec.root.and_then(|r| r.dag).map(|d| d.tasks.len()), Some(2));
/// # Ok::<(), kubeflow_pipelines::dsl::DslError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) params: Vec<ParamDef>,
    pub(crate) tasks: Vec<TaskNode>,
    pub(crate) groups: Vec<Group>,
    pub(crate) current: usize,
    pub(crate) outputs: Vec<(String, Source)>,
    pub(crate) group_counter: usize,
    one_of_counter: usize,
    pub(crate) errors: Vec<super::DslError>,
}

impl Pipeline {
    /// A pipeline named `name` (`pipelineInfo.name`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            id: NEXT_PIPELINE_ID.fetch_add(1, Ordering::Relaxed),
            name: name.into(),
            description: None,
            display_name: None,
            params: Vec::new(),
            tasks: Vec::new(),
            groups: vec![Group {
                name: "root".into(),
                display_name: None,
                parent: None,
                kind: GroupKind::Root,
            }],
            current: 0,
            outputs: Vec::new(),
            group_counter: 0,
            one_of_counter: 0,
            errors: Vec::new(),
        }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets the display name.
    pub fn display_name(mut self, text: impl Into<String>) -> Self {
        self.display_name = Some(text.into());
        self
    }

    /// Declares a required pipeline parameter.
    pub fn parameter(&mut self, name: impl Into<String>, ty: ParameterType) -> PipelineParam {
        self.declare(name.into(), ty, None)
    }

    /// Declares a pipeline parameter with a default value.
    pub fn parameter_with_default(
        &mut self,
        name: impl Into<String>,
        ty: ParameterType,
        default: impl Into<Value>,
    ) -> PipelineParam {
        self.declare(name.into(), ty, Some(default.into()))
    }

    pub(crate) fn declare(
        &mut self,
        name: String,
        ty: ParameterType,
        default: Option<Value>,
    ) -> PipelineParam {
        self.declare_input(name, ty, default, None)
    }

    pub(crate) fn declare_input(
        &mut self,
        name: String,
        ty: ParameterType,
        default: Option<Value>,
        artifact: Option<(crate::spec::ArtifactTypeSchema, bool)>,
    ) -> PipelineParam {
        if self.params.iter().any(|p| p.name == name) {
            self.errors.push(super::DslError::DuplicateName {
                kind: "pipeline parameter",
                name: name.clone(),
            });
        } else {
            self.params.push(ParamDef {
                name: name.clone(),
                ty,
                default,
                artifact,
            });
        }
        PipelineParam {
            pipeline: self.id,
            name,
        }
    }

    /// Declares a pipeline output (a Python pipeline's return value; a single output is named
    /// `Output` there): an output of a task at the top level of the pipeline, the collected
    /// outputs of a task in a top-level loop ([`TaskHandle::collected`]), or the `OneOf` of a
    /// top-level if / elif / else chain ([`Pipeline::one_of`]).
    pub fn output(&mut self, name: impl Into<String>, source: impl Into<Source>) {
        let name = name.into();
        if self.outputs.iter().any(|(n, _)| *n == name) {
            self.errors.push(super::DslError::DuplicateName {
                kind: "pipeline output",
                name: name.clone(),
            });
        }
        self.outputs.push((name, source.into()));
    }

    /// The output of whichever branch of an if / elif / else chain ran (`dsl.OneOf`): one
    /// output of a task directly inside each branch, used after the chain.
    pub fn one_of(&mut self, sources: impl IntoIterator<Item = Source>) -> Source {
        self.one_of_counter += 1;
        Source::OneOf {
            pipeline: self.id,
            id: self.one_of_counter,
            sources: sources.into_iter().collect(),
        }
    }

    /// Adds a task in the current scope (the pipeline, or the condition or exit handler being
    /// built) and returns its handle. Tasks are named after their component (`train`,
    /// `train-2`, …).
    pub fn add(&mut self, task: Task) -> TaskHandle {
        let base = match &task.component {
            TaskComponent::Container(component) => sanitize(&component.name),
            TaskComponent::Importer(_) => "importer".to_owned(),
            TaskComponent::Pipeline(pipeline) => sanitize(&pipeline.name),
        };
        let name = self.unique_task_name(&base);
        let index = self.tasks.len();
        self.tasks.push(TaskNode {
            name: name.clone(),
            task,
            group: self.current,
        });
        TaskHandle {
            pipeline: self.id,
            index,
            name,
        }
    }

    fn unique_task_name(&self, base: &str) -> String {
        let taken = |candidate: &str| self.tasks.iter().any(|t| t.name == candidate);
        if !taken(base) {
            return base.to_owned();
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|candidate| !taken(candidate))
            .unwrap_or_else(|| base.to_owned())
    }

    pub(crate) fn open_group(
        &mut self,
        prefix: &str,
        display_name: Option<String>,
        kind: GroupKind,
    ) -> usize {
        self.group_counter += 1;
        let index = self.groups.len();
        self.groups.push(Group {
            name: format!("{prefix}-{}", self.group_counter),
            display_name,
            parent: Some(self.current),
            kind,
        });
        index
    }

    pub(crate) fn within<R>(&mut self, group: usize, body: impl FnOnce(&mut Self) -> R) -> R {
        let saved = self.current;
        self.current = group;
        let result = body(self);
        self.current = saved;
        result
    }

    /// Runs the tasks added by `body` only when `condition` holds (`with dsl.If(...)`).
    pub fn condition<R>(&mut self, condition: Condition, body: impl FnOnce(&mut Self) -> R) -> R {
        let group = self.open_group(
            "condition",
            None,
            GroupKind::Condition(vec![(condition, false)]),
        );
        self.within(group, body)
    }

    /// Runs `exit_task` once the tasks added by `body` have finished, whatever their state
    /// (`with dsl.ExitHandler(exit_task, name)`). Inputs of type `TASK_FINAL_STATUS` of the
    /// exit task receive the final status. Returns the exit task's handle and `body`'s value.
    pub fn exit_handler<R>(
        &mut self,
        exit_task: Task,
        name: Option<&str>,
        body: impl FnOnce(&mut Self) -> R,
    ) -> (TaskHandle, R) {
        let handle = self.add(exit_task);
        let group = self.open_group(
            "exit-handler",
            name.map(str::to_owned),
            GroupKind::ExitHandler {
                exit_task: handle.index,
            },
        );
        let result = self.within(group, body);
        (handle, result)
    }
}

/// Kubernetes-style name as the SDK makes it: lower case, runs of other characters as `-`.
pub(crate) fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}
