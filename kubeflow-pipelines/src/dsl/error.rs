//! Validation errors of the DSL.

/// A pipeline that cannot compile, with what is wrong and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DslError {
    /// A task sets an input its component does not have.
    #[error("task {task}: component {component} has no input {input} (it has: {known})")]
    UnknownInput {
        /// The task.
        task: String,
        /// The component.
        component: String,
        /// The input.
        input: String,
        /// The inputs it has.
        known: String,
    },
    /// A required input is not set.
    #[error("task {task}: required input {input} is not set")]
    MissingInput {
        /// The task.
        task: String,
        /// The input.
        input: String,
    },
    /// An input is set twice.
    #[error("task {task}: input {input} is set twice")]
    DuplicateInput {
        /// The task.
        task: String,
        /// The input.
        input: String,
    },
    /// The value given does not fit the input (parameter vs artifact, artifact type).
    #[error("task {task}: input {input} is a {expected} but gets a {got}")]
    TypeMismatch {
        /// The task.
        task: String,
        /// The input.
        input: String,
        /// The input's type.
        expected: String,
        /// The type of the value given.
        got: String,
    },
    /// A task uses an output its producer does not have.
    #[error("task {task}: task {producer} has no output {output} (it has: {known})")]
    UnknownOutput {
        /// The consuming task.
        task: String,
        /// The producing task.
        producer: String,
        /// The output.
        output: String,
        /// The outputs it has.
        known: String,
    },
    /// A task uses an output of a task inside a condition or exit handler it is not in.
    #[error(
        "{task}: uses an output of task {producer}, which runs inside {scope}; outputs can only be used within the scope of their task"
    )]
    OutOfScope {
        /// The consumer (task or group).
        task: String,
        /// The producing task.
        producer: String,
        /// The group the producer is in.
        scope: String,
    },
    /// `collected` was used on a task that is not directly inside a `ParallelFor` loop.
    #[error(
        "{task}: collects the outputs of task {producer}, which is not directly inside a ParallelFor loop"
    )]
    NotInLoop {
        /// The consumer.
        task: String,
        /// The producing task.
        producer: String,
    },
    /// A handle or parameter of another pipeline was used.
    #[error("{what} {name} belongs to another pipeline")]
    ForeignHandle {
        /// `task` or `pipeline parameter`.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// Two things share a name that must be unique.
    #[error("duplicate {kind} name {name}")]
    DuplicateName {
        /// What is duplicated.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A placeholder names an input or output the component does not declare.
    #[error(
        "component {component}: placeholder refers to {what} {name}, which it does not declare"
    )]
    UnknownPlaceholder {
        /// The component.
        component: String,
        /// `input parameter`, `output artifact`, ….
        what: String,
        /// The name.
        name: String,
    },
    /// A condition compares something that is not a parameter.
    #[error("condition in {group}: {message}")]
    InvalidCondition {
        /// The condition group.
        group: String,
        /// What is wrong.
        message: String,
    },
    /// A `ParallelFor` loop has invalid items.
    #[error("loop {group}: {message}")]
    InvalidLoop {
        /// The loop group.
        group: String,
        /// What is wrong.
        message: String,
    },
    /// A pipeline output is not an output of a top-level task.
    #[error("pipeline output {output}: {message}")]
    InvalidOutput {
        /// The output.
        output: String,
        /// What is wrong.
        message: String,
    },
    /// A `OneOf` is malformed.
    #[error("{task}: invalid OneOf: {message}")]
    InvalidOneOf {
        /// The consumer.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// A component YAML could not be loaded.
    #[error("cannot load the component: {message}")]
    InvalidComponent {
        /// What is wrong.
        message: String,
    },
    /// A resource quantity is malformed.
    #[error("task {task}: invalid {what} {value:?}: {message}")]
    InvalidResource {
        /// The task.
        task: String,
        /// `cpu limit`, `memory request`, ….
        what: &'static str,
        /// The value.
        value: String,
        /// What is wrong.
        message: &'static str,
    },
    /// A Python component's source cannot be read.
    #[error("python component {function}: {message}")]
    InvalidPythonComponent {
        /// The function.
        function: String,
        /// What is wrong.
        message: String,
    },
    /// A pipeline used as a task does not compile.
    #[error("task {task} (a nested pipeline): {error}")]
    InNestedPipeline {
        /// The task running the pipeline.
        task: String,
        /// What is wrong inside it.
        error: Box<DslError>,
    },
    /// A setting the task's kind of component does not support.
    #[error("task {task}: {message}")]
    NotSupported {
        /// The task.
        task: String,
        /// What is not supported.
        message: String,
    },
    /// A Kubernetes setting of a task is malformed.
    #[error("task {task}: invalid Kubernetes setting: {message}")]
    InvalidKubernetesSetting {
        /// The task.
        task: String,
        /// What is wrong.
        message: String,
    },
}
