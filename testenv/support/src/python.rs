//! The Python side of the test environment: the KServe model servers and the official `kfp`
//! compiler, both from the venv that `testenv/kserve/build.sh` creates.
//!
//! `scripts/test` starts one shared toy server and one shared scikit-learn server
//! ([`kserve_url`], [`kserve_sklearn_url`]). A test that needs a server of its own (for example
//! to unload its model) starts one with [`ModelServer::start_toy`] or
//! [`ModelServer::start_sklearn`]: it listens on a free 127.0.0.1 port and is killed by PID when
//! the value is dropped.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Environment variable: the venv's python (has `kserve`, `kfp`, `scikit-learn`).
pub const PYTHON_ENV: &str = "KUBEFLOW_TEST_PYTHON";
/// Environment variable: the python that runs the KServe model servers (the same venv today).
pub const KSERVE_PYTHON_ENV: &str = "KUBEFLOW_TEST_KSERVE_PYTHON";
/// Environment variable: base URL of the shared toy model server (model `toy`).
pub const KSERVE_URL_ENV: &str = "KUBEFLOW_TEST_KSERVE_URL";
/// Environment variable: base URL of the shared scikit-learn model server (model `sklearn-iris`).
pub const KSERVE_SKLEARN_URL_ENV: &str = "KUBEFLOW_TEST_KSERVE_SKLEARN_URL";

/// Model name served by the toy server.
pub const TOY_MODEL: &str = "toy";
/// Model name served by the scikit-learn server.
pub const SKLEARN_MODEL: &str = "sklearn-iris";

/// How long [`ModelServer`] waits for `/v2/health/ready` (the import of kserve alone takes 3–4 s,
/// training the iris model a few more; CI machines are slower).
const START_TIMEOUT: Duration = Duration::from_secs(90);

fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "environment variable {name} is not set: run the real-server tests through \
             scripts/test (or testenv/kserve/start.sh RUN and `. RUN/env`)"
        ),
    }
}

/// Directory holding the test environment's Python scripts (`testenv/kserve`).
pub fn kserve_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("kserve")
}

/// The venv python with `kfp` (`KUBEFLOW_TEST_PYTHON`). Panics naming the variable when unset.
pub fn python() -> PathBuf {
    PathBuf::from(required_env(PYTHON_ENV))
}

/// The venv python with `kserve` (`KUBEFLOW_TEST_KSERVE_PYTHON`, else `KUBEFLOW_TEST_PYTHON`).
/// Panics naming the variables when both are unset.
pub fn kserve_python() -> PathBuf {
    match std::env::var(KSERVE_PYTHON_ENV) {
        Ok(value) if !value.is_empty() => PathBuf::from(value),
        _ => match std::env::var(PYTHON_ENV) {
            Ok(value) if !value.is_empty() => PathBuf::from(value),
            _ => panic!(
                "neither {KSERVE_PYTHON_ENV} nor {PYTHON_ENV} is set: run the real-server tests \
                 through scripts/test"
            ),
        },
    }
}

/// Base URL (`http://127.0.0.1:<port>`, no trailing slash) of the shared toy model server.
pub fn kserve_url() -> String {
    required_env(KSERVE_URL_ENV)
        .trim_end_matches('/')
        .to_owned()
}

/// Base URL (`http://127.0.0.1:<port>`, no trailing slash) of the shared scikit-learn server.
pub fn kserve_sklearn_url() -> String {
    required_env(KSERVE_SKLEARN_URL_ENV)
        .trim_end_matches('/')
        .to_owned()
}

/// Which model a private [`ModelServer`] serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// `toy`: V1 row sums; V2 `output0` (FP32 row sums) and `output1` (INT64 row lengths).
    Toy,
    /// `sklearn-iris`: an SVC trained on the iris data set at start; V2 output `output-0`.
    Sklearn,
}

impl ModelKind {
    fn arg(self) -> &'static str {
        match self {
            Self::Toy => "toy",
            Self::Sklearn => "sklearn",
        }
    }

    /// The model name the server registers.
    pub fn model_name(self) -> &'static str {
        match self {
            Self::Toy => TOY_MODEL,
            Self::Sklearn => SKLEARN_MODEL,
        }
    }
}

/// A real KServe model server of one test's own, on a free 127.0.0.1 port (no gRPC).
///
/// Killed by PID (and its scratch directory removed) on drop.
pub struct ModelServer {
    child: Child,
    kind: ModelKind,
    url: String,
    dir: PathBuf,
}

impl fmt::Debug for ModelServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelServer")
            .field("pid", &self.child.id())
            .field("kind", &self.kind)
            .field("url", &self.url)
            .finish()
    }
}

impl ModelServer {
    /// Starts a toy model server (model `toy`) and waits until it is ready.
    pub async fn start_toy() -> anyhow::Result<Self> {
        Self::start(ModelKind::Toy).await
    }

    /// Starts a scikit-learn iris server (model `sklearn-iris`) and waits until it is ready.
    pub async fn start_sklearn() -> anyhow::Result<Self> {
        Self::start(ModelKind::Sklearn).await
    }

    /// Starts a model server of the given kind and waits (bounded) for `/v2/health/ready`.
    pub async fn start(kind: ModelKind) -> anyhow::Result<Self> {
        let python = kserve_python();
        let dir = scratch_dir("kf-modelserver")?;
        let port_file = dir.join("port");
        let log_path = dir.join("server.log");
        let log = fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .with_context(|| format!("duplicating the handle of {}", log_path.display()))?;
        let child = Command::new(&python)
            .arg(kserve_dir().join("serve.py"))
            .args(["--kind", kind.arg(), "--port-file"])
            .arg(&port_file)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .with_context(|| format!("starting {} testenv/kserve/serve.py", python.display()))?;
        let mut server = Self {
            child,
            kind,
            url: String::new(),
            dir,
        };
        server.wait_ready(&port_file).await.with_context(|| {
            format!(
                "the {} model server (pid {}) did not become ready; log tail:\n{}",
                kind.arg(),
                server.child.id(),
                log_tail(&log_path)
            )
        })?;
        Ok(server)
    }

    async fn wait_ready(&mut self, port_file: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut port = None;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .context("polling the server process")?
            {
                bail!("the server exited with {status}");
            }
            if port.is_none() {
                port = read_port(port_file)?;
                if let Some(port) = port {
                    self.url = format!("http://127.0.0.1:{port}");
                }
            }
            if let Some(port) = port
                && health_ready(port).await
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("not ready after {} s", START_TIMEOUT.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Base URL, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The name of the model it serves.
    pub fn model_name(&self) -> &'static str {
        self.kind.model_name()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to this PID only; wait() reaps it so no zombie is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn read_port(path: &Path) -> anyhow::Result<Option<u16>> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let text = text.trim();
            text.parse::<u16>()
                .map(Some)
                .with_context(|| format!("{} holds {text:?}, not a port", path.display()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

/// One bounded `GET /v2/health/ready` over plain HTTP/1.0; true on status 200.
async fn health_ready(port: u16) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /v2/health/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(head.starts_with(b"HTTP/1.") && &head[8..12] == b" 200")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Ok(true))
    )
}

fn log_tail(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

fn scratch_dir(prefix: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Compiles a KFP pipeline with the official compiler (`kfp.compiler.Compiler().compile`, run by
/// the venv python of [`python`]) and returns the YAML it wrote.
///
/// `python_source` is a Python module; it compiles the module-level `pipeline` object if there is
/// one, otherwise the only `@dsl.pipeline` function. Panics with the compiler's output when it
/// fails, or naming the variable when `KUBEFLOW_TEST_PYTHON` is unset.
pub fn compile_pipeline(python_source: &str) -> String {
    match try_compile_pipeline(python_source) {
        Ok(yaml) => yaml,
        Err(err) => panic!("compiling the pipeline with kfp failed: {err:#}"),
    }
}

/// [`compile_pipeline`] returning an error instead of panicking (except for a missing
/// `KUBEFLOW_TEST_PYTHON`, which still panics naming it).
pub fn try_compile_pipeline(python_source: &str) -> anyhow::Result<String> {
    let python = python();
    let dir = scratch_dir("kf-kfp-compile")?;
    let result = compile_in(&python, &dir, python_source);
    let _ = fs::remove_dir_all(&dir);
    result
}

fn compile_in(python: &Path, dir: &Path, python_source: &str) -> anyhow::Result<String> {
    let source = dir.join("pipeline_source.py");
    let output = dir.join("pipeline.yaml");
    fs::write(&source, python_source).with_context(|| format!("writing {}", source.display()))?;
    let run = Command::new(python)
        .arg(kserve_dir().join("compile_pipeline.py"))
        .arg(&source)
        .arg(&output)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} compile_pipeline.py", python.display()))?;
    if !run.status.success() {
        bail!(
            "{} exited with {}:\n{}{}",
            python.display(),
            run.status,
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
    fs::read_to_string(&output).with_context(|| format!("reading {}", output.display()))
}

/// Parses compiled pipeline YAML (the `PipelineSpec` document, optionally followed by `---` and a
/// `PlatformSpec` document) into one JSON value per document.
pub fn parse_pipeline_yaml(yaml: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    serde_saphyr::from_multiple::<serde_json::Value>(yaml)
        .map_err(|err| anyhow::anyhow!("compiled pipeline YAML does not parse: {err}"))
}
