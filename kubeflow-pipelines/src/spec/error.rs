//! Errors reading and writing pipeline packages.

use std::path::PathBuf;

/// An error reading or writing a pipeline package or IR document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The input is not valid YAML or JSON, or a value does not fit the IR.
    #[error(transparent)]
    Parse(Box<ParseError>),
    /// The package holds a number of documents other than one or two.
    #[error(
        "{source_name}: a pipeline package holds 1 or 2 YAML documents, this one holds {count}"
    )]
    DocumentCount {
        /// What was read.
        source_name: String,
        /// The number of documents found.
        count: usize,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising failed (the IR holds a value YAML or JSON cannot represent).
    #[error("writing the pipeline package failed: {0}")]
    Serialize(String),
    /// The file name does not end with `.yaml`, `.yml` or `.json`.
    #[error("{}: a pipeline package file ends with .yaml, .yml or .json", .0.display())]
    UnknownExtension(PathBuf),
}

/// Where and why reading a pipeline package failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{source_name}: document {document} ({kind}){at}: {message}",
    at = location_text(path, *line, *column)
)]
#[non_exhaustive]
pub struct ParseError {
    /// What was read: a file path, or `<string>`.
    pub source_name: String,
    /// The document, from 1 (1 is the `PipelineSpec`, 2 the `PlatformSpec`).
    pub document: usize,
    /// `PipelineSpec` or `PlatformSpec`.
    pub kind: &'static str,
    /// The path of the bad value, e.g. `root.dag.tasks.train.cachingOptions.enableCache`
    /// (empty when unknown, e.g. for syntax errors).
    pub path: String,
    /// The line of the bad value, from 1, when known.
    pub line: Option<u64>,
    /// The column of the bad value, from 1, when known.
    pub column: Option<u64>,
    /// What was wrong.
    pub message: String,
}

fn location_text(path: &str, line: Option<u64>, column: Option<u64>) -> String {
    let mut out = String::new();
    if !path.is_empty() {
        out.push_str(" at ");
        out.push_str(path);
    }
    match (line, column) {
        (Some(line), Some(column)) => out.push_str(&format!(" (line {line}, column {column})")),
        (Some(line), None) => out.push_str(&format!(" (line {line})")),
        _ => {}
    }
    out
}
