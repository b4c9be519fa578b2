//! The peer of our local pipeline runner: the Python SDK's `kfp.local` (SubprocessRunner), run by
//! `testenv/kserve/kfp_local_run.py` with the test venv's python (`KUBEFLOW_TEST_PYTHON`, kfp
//! 2.17.3), and the comparison pipelines of `tests/pipelines/*.py`.
//!
//! [`kfp_local_run`] returns the one JSON object the script prints:
//!
//! ```text
//! {"outputs": {NAME: VALUE, ...}, "run_dir": "<root>/<pipeline>-<YYYY-mm-dd-HH-MM-SS-ffffff>", "seconds": 1.23}
//! ```
//!
//! A parameter output is its JSON value (kfp.local reads numbers as floats unless the output is
//! typed int: a `float` output 3.0 is `3.0`, which `serde_json` keeps apart from `3`). An artifact
//! output is `{"name", "schema_title", "uri", "metadata", "content"}`, `content` being the file's
//! text when it is a UTF-8 file of at most 64 KiB, else `null`; a list of artifacts is an array.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::python::{PYTHON_ENV, kserve_dir};

/// How long [`kfp_local_run`] and [`compile_python_pipeline`] let the script run before killing it
/// (kfp.local starts one Python process per task, about 0.7 s each on the 2-core CI box).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How much of the script's stderr an error message quotes (its last lines).
const TAIL_LINES: usize = 100;
/// How much of stderr is kept in memory while the script runs (the tail only).
const STDERR_KEEP: usize = 256 * 1024;

/// The folder of the comparison pipelines, `tests/pipelines` (Python files, one `@dsl.pipeline`
/// each, run by kfp.local and, compiled, by our runner).
pub fn pipelines_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("tests")
        .join("pipelines")
}

/// The script that runs and compiles pipelines with the Python SDK,
/// `testenv/kserve/kfp_local_run.py`.
pub fn kfp_local_script() -> PathBuf {
    kserve_dir().join("kfp_local_run.py")
}

/// The venv python (`KUBEFLOW_TEST_PYTHON`), or an error naming the variable when it is unset.
pub fn venv_python() -> anyhow::Result<PathBuf> {
    match std::env::var(PYTHON_ENV) {
        Ok(value) if !value.is_empty() => Ok(PathBuf::from(value)),
        _ => bail!(
            "environment variable {PYTHON_ENV} is not set: run the real-server tests through \
             scripts/test (KF_TESTENV_COMPONENTS must include kserve)"
        ),
    }
}

/// Runs the `@dsl.pipeline` function `func` of the Python file `file` with kfp.local's
/// `SubprocessRunner(use_venv=False)`, pipeline root `root` (created if missing; each run adds
/// one folder under it), and the pipeline arguments `args` (a JSON object, `{}` for the
/// defaults). Returns the JSON object the script prints (see the module documentation); its
/// `outputs` member is checked to be an object.
///
/// Bounded by [`DEFAULT_TIMEOUT`]. Errors (with the last lines of the script's stderr) when the
/// venv python is not configured, the script fails (a failing pipeline exits 1), times out, or
/// prints no JSON object on its last stdout line.
pub fn kfp_local_run(
    file: &Path,
    func: &str,
    args: &serde_json::Value,
    root: &Path,
) -> anyhow::Result<serde_json::Value> {
    kfp_local_run_with_timeout(file, func, args, root, DEFAULT_TIMEOUT)
}

/// [`kfp_local_run`] with an explicit time limit.
pub fn kfp_local_run_with_timeout(
    file: &Path,
    func: &str,
    args: &serde_json::Value,
    root: &Path,
    timeout: Duration,
) -> anyhow::Result<serde_json::Value> {
    if !args.is_object() {
        bail!("the pipeline arguments must be a JSON object, got {args}");
    }
    let python = venv_python()?;
    let mut command = Command::new(&python);
    command
        .arg(kfp_local_script())
        .arg("run")
        .arg(file)
        .arg(func)
        .arg("--pipeline-root")
        .arg(root)
        .arg("--args")
        .arg(args.to_string());
    let what = format!("kfp.local running {func} of {}", file.display());
    let run = run_bounded(command, timeout).with_context(|| what.clone())?;
    if !run.status.success() {
        bail!(
            "{what} failed ({}); stderr tail:\n{}",
            run.status,
            tail(&run.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&run.stdout);
    let Some(last) = stdout.lines().rev().find(|line| !line.trim().is_empty()) else {
        bail!(
            "{what} printed nothing on stdout; stderr tail:\n{}",
            tail(&run.stderr)
        );
    };
    let value: serde_json::Value = serde_json::from_str(last).with_context(|| {
        format!(
            "{what}: the last stdout line is not JSON: {last:?}; stderr tail:\n{}",
            tail(&run.stderr)
        )
    })?;
    match value.get("outputs") {
        Some(serde_json::Value::Object(_)) => Ok(value),
        _ => bail!("{what}: the result has no \"outputs\" object: {value}"),
    }
}

/// Compiles the `@dsl.pipeline` function `func` of the Python file `file` with the official
/// compiler (`kfp.compiler.Compiler`, kfp 2.17.3 from the venv) to `out_yaml`.
///
/// Bounded by [`DEFAULT_TIMEOUT`]; errors with the compiler's output when it fails.
pub fn compile_python_pipeline(file: &Path, func: &str, out_yaml: &Path) -> anyhow::Result<()> {
    let python = venv_python()?;
    let mut command = Command::new(&python);
    command
        .arg(kfp_local_script())
        .arg("compile")
        .arg(file)
        .arg(func)
        .arg(out_yaml);
    let what = format!("compiling {func} of {} with kfp", file.display());
    let run = run_bounded(command, DEFAULT_TIMEOUT).with_context(|| what.clone())?;
    if !run.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            run.status,
            String::from_utf8_lossy(&run.stdout),
            tail(&run.stderr)
        );
    }
    if !out_yaml.is_file() {
        bail!(
            "{what}: the compiler succeeded but wrote no {}",
            out_yaml.display()
        );
    }
    Ok(())
}

/// Rewrites every number that is a whole float (`4.0`) as an integer (`4`), recursively, so that
/// outputs can be compared across runners: kfp.local passes numbers through protobuf `Value`s and
/// prints artifact metadata, list items and dict values as floats even when they were written as
/// integers.
pub fn normalize_numbers(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(number) => match number.as_f64() {
            Some(float)
                if number.is_f64()
                    && float.fract() == 0.0
                    && float.abs() < 9_007_199_254_740_992.0 =>
            {
                // Exact: a whole float below 2^53 converts to i64 without rounding.
                Value::from(float as i64)
            }
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(normalize_numbers).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, item)| (key.clone(), normalize_numbers(item)))
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// A fresh directory under the system temporary directory, removed (with its content) on drop.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<tmp>/<prefix>-<pid>-<random>`.
    pub fn new(prefix: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

struct Finished {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `command` (stdin closed, stdout and stderr captured) in a process group of its own and
/// kills that group when it outlives `timeout`.
fn run_bounded(mut command: Command, timeout: Duration) -> anyhow::Result<Finished> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // kfp.local starts `sh -c` and python per task: a group lets a timeout stop them all.
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    let stdout = child.stdout.take().map(|pipe| reader(pipe, usize::MAX));
    let stderr = child.stderr.take().map(|pipe| reader(pipe, STDERR_KEEP));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(err) => {
                kill_group(&mut child);
                return Err(err).context("waiting for the process");
            }
        }
        if Instant::now() >= deadline {
            kill_group(&mut child);
            let stderr = join(stderr);
            bail!(
                "still running after {timeout:?}: killed (process group {}); stderr tail:\n{}",
                child.id(),
                tail(&stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Finished {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    })
}

/// Reads a pipe to its end on a thread, keeping at most the last `keep` bytes.
fn reader(mut pipe: impl Read + Send + 'static, keep: usize) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > keep.saturating_mul(2) {
                        let cut = kept.len() - keep;
                        kept.drain(..cut);
                    }
                }
            }
        }
        if kept.len() > keep {
            let cut = kept.len() - keep;
            kept.drain(..cut);
        }
        kept
    })
}

fn join(handle: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    handle
        .and_then(|handle| handle.join().ok())
        .unwrap_or_default()
}

/// Kills the child's process group (the child is its leader) by its id, then the child itself,
/// and reaps it.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last [`TAIL_LINES`] lines of `bytes` (lossy UTF-8), without kfp.local's colour codes.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    strip_ansi(&tail)
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // CSI: parameters and intermediates up to a final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_ansi_removes_colour_codes() {
        assert_eq!(
            strip_ansi("Task \u{1b}[96m'add'\u{1b}[0m finished"),
            "Task 'add' finished"
        );
        assert_eq!(strip_ansi("plain \u{1b}x"), "plain \u{1b}x");
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let text: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let tail = tail(text.as_bytes());
        assert!(tail.starts_with("line 100\n"), "{tail}");
        assert!(tail.ends_with("line 199"), "{tail}");
    }

    #[test]
    fn pipelines_dir_holds_the_comparison_pipelines() {
        for name in ["params.py", "artifacts.py", "control.py", "exit_handler.py"] {
            assert!(pipelines_dir().join(name).is_file(), "{name} missing");
        }
    }

    #[test]
    fn run_bounded_kills_on_timeout() -> anyhow::Result<()> {
        let mut command = Command::new("sh");
        command.args(["-c", "echo started >&2; sleep 30"]);
        let start = Instant::now();
        let err = match run_bounded(command, Duration::from_millis(300)) {
            Ok(_) => bail!("a 30 s sleep finished within 300 ms"),
            Err(err) => format!("{err:#}"),
        };
        assert!(start.elapsed() < Duration::from_secs(10), "{err}");
        assert!(err.contains("still running after 300ms"), "{err}");
        assert!(err.contains("started"), "{err}");
        Ok(())
    }

    #[test]
    fn run_bounded_captures_output_and_status() -> anyhow::Result<()> {
        let mut command = Command::new("sh");
        command.args(["-c", "echo out; echo err >&2; exit 3"]);
        let run = run_bounded(command, Duration::from_secs(10))?;
        assert_eq!(run.status.code(), Some(3));
        assert_eq!(run.stdout, b"out\n");
        assert_eq!(run.stderr, b"err\n");
        Ok(())
    }

    #[test]
    fn bad_arguments_are_an_error() {
        let result = kfp_local_run(
            Path::new("x.py"),
            "p",
            &serde_json::json!([1]),
            Path::new("/nonexistent"),
        );
        match result {
            Ok(value) => panic!("arguments [1] were accepted: {value}"),
            Err(err) => assert!(err.to_string().contains("JSON object"), "{err:#}"),
        }
    }

    #[test]
    fn normalize_numbers_turns_whole_floats_into_integers() {
        let value = serde_json::json!({"a": 4.0, "b": [1.0, 2.5, -3.0], "c": "4.0", "d": 7});
        assert_eq!(
            normalize_numbers(&value),
            serde_json::json!({"a": 4, "b": [1, 2.5, -3], "c": "4.0", "d": 7})
        );
        assert_ne!(serde_json::json!(4.0), serde_json::json!(4));
    }

    #[test]
    fn scratch_dir_is_removed_on_drop() -> anyhow::Result<()> {
        let dir = ScratchDir::new("kf-scratch-test")?;
        let path = dir.path().to_owned();
        std::fs::write(path.join("f"), "x")?;
        drop(dir);
        assert!(!path.exists());
        Ok(())
    }
}
