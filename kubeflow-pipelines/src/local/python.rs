//! Lightweight Python components: the compiler embeds the function's source in the command and
//! runs it with `python3 -m kfp.dsl.executor_main` after a `pip install kfp==...`. The local
//! runner runs the same executor with a local Python that has `kfp`, without the pip step (so it
//! works offline), as `kfp.local`'s `SubprocessRunner(use_venv=False)` does.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Environment variable naming the Python interpreter for lightweight Python components.
pub const PYTHON_ENV: &str = "KUBEFLOW_LOCAL_PYTHON";

/// What the runner needs from a lightweight component's command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lightweight {
    /// The embedded module source.
    pub program: String,
    /// The executor's own arguments (`--executor_input {{$}} --function_to_execute f`),
    /// placeholders not yet resolved.
    pub args: Vec<String>,
    /// The `kfp` version the component was compiled to install, if it says.
    pub kfp_version: Option<String>,
    /// Packages the component asks pip to install beyond `kfp`.
    pub packages: Vec<String>,
}

/// How a command line runs Python code through the KFP executor.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PythonKind {
    /// Not a Python component.
    None,
    /// A lightweight component: the runner can run it.
    Lightweight(Lightweight),
    /// A containerized Python component: its code is inside the image.
    Containerized,
}

pub(crate) fn detect(full: &[String]) -> PythonKind {
    let Some(index) = full
        .iter()
        .position(|part| part.contains("kfp.dsl.executor_main"))
    else {
        return PythonKind::None;
    };
    if !full[index].contains("--component_module_path") {
        return PythonKind::Containerized;
    }
    let Some(program) = full.get(index + 1) else {
        return PythonKind::Containerized;
    };
    let mut kfp_version = None;
    let mut packages = Vec::new();
    for part in &full[..index] {
        if !part.contains("pip install") {
            continue;
        }
        for quoted in single_quoted(part) {
            if quoted.starts_with('-') || quoted.starts_with("typing-extensions") {
                continue;
            }
            if let Some(version) = quoted.strip_prefix("kfp==") {
                kfp_version = Some(version.to_owned());
            } else if quoted != "kfp" && !quoted.starts_with("kfp[") {
                packages.push(quoted.to_owned());
            }
        }
    }
    PythonKind::Lightweight(Lightweight {
        program: program.clone(),
        args: full[index + 2..].to_vec(),
        kfp_version,
        packages,
    })
}

fn single_quoted(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('\'') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('\'') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

/// The command line that runs a lightweight component with `python`, its module written to
/// `module_path`.
pub(crate) fn command(python: &Path, module_path: &Path, executor_args: &[String]) -> Vec<String> {
    let mut argv = vec![
        python.display().to_string(),
        "-m".to_owned(),
        "kfp.dsl.executor_main".to_owned(),
        "--component_module_path".to_owned(),
        module_path.display().to_string(),
    ];
    argv.extend(executor_args.iter().cloned());
    argv
}

/// The Python interpreter to use: the configured one, else `KUBEFLOW_LOCAL_PYTHON`, else
/// `python3`.
pub(crate) fn interpreter(configured: Option<&Path>) -> PathBuf {
    if let Some(path) = configured {
        return path.to_owned();
    }
    match std::env::var_os(PYTHON_ENV) {
        Some(value) if !value.is_empty() => PathBuf::from(value),
        _ => PathBuf::from("python3"),
    }
}

/// Checks that `python` runs and imports `kfp`; gives its `kfp` version, or why not.
pub(crate) async fn kfp_version(python: &Path) -> Result<String, String> {
    let mut command = tokio::process::Command::new(python);
    command
        .args(["-c", "import kfp, sys; sys.stdout.write(kfp.__version__)"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(Duration::from_secs(60), command.output()).await {
        Err(_) => return Err("did not answer within 60 s".into()),
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err("was not found".into());
        }
        Ok(Err(err)) => return Err(format!("could not be started ({err})")),
        Ok(Ok(output)) => output,
    };
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .last()
        .unwrap_or("it failed")
        .trim()
        .to_owned();
    Err(format!("could not import kfp ({last})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled() -> Vec<String> {
        [
            "sh",
            "-c",
            "\nif ! [ -x \"$(command -v pip)\" ]; then\n    python3 -m ensurepip\nfi\n\n\
             PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet \
             --no-warn-script-location 'kfp==2.17.3' '--no-deps' \
             'typing-extensions>=3.7.4,<5; python_version<\"3.9\"'  &&  python3 -m pip install \
             --quiet --no-warn-script-location 'numpy==2.0' && \"$0\" \"$@\"\n",
            "sh",
            "-ec",
            "program_path=$(mktemp -d)\nprintf \"%s\" \"$0\" > \"$program_path/ephemeral_component.py\"\n\
             _KFP_RUNTIME=true python3 -m kfp.dsl.executor_main --component_module_path \
             \"$program_path/ephemeral_component.py\" \"$@\"\n",
            "\nimport kfp\nfrom kfp import dsl\n\ndef add(a: int, b: int) -> int:\n    return a + b\n",
            "--executor_input",
            "{{$}}",
            "--function_to_execute",
            "add",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    #[test]
    fn detects_lightweight_components() {
        let PythonKind::Lightweight(found) = detect(&compiled()) else {
            panic!("not detected");
        };
        assert!(found.program.contains("def add"));
        assert_eq!(
            found.args,
            ["--executor_input", "{{$}}", "--function_to_execute", "add"]
        );
        assert_eq!(found.kfp_version.as_deref(), Some("2.17.3"));
        assert_eq!(found.packages, ["numpy==2.0"]);
    }

    #[test]
    fn containerized_and_plain_commands() {
        let containerized: Vec<String> = ["python3", "-m", "kfp.dsl.executor_main"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(detect(&containerized), PythonKind::Containerized);
        assert_eq!(detect(&["echo".to_owned()]), PythonKind::None);
    }
}
