//! Running one task attempt as a local subprocess: its own process group (so a timeout, a
//! cancellation or the end of the task stops everything it started, as the end of a container
//! would), standard output and error interleaved into the task's log, bounded in time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long a stopped task gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How long the runner waits for the log pipes to close once the task's process exited.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal (not by us).
    Signal(i32),
    /// Ran past its timeout and was stopped.
    TimedOut(Duration),
    /// The run was cancelled and the task stopped.
    Cancelled,
}

/// One attempt to run.
pub(crate) struct Attempt<'a> {
    pub argv: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: Option<&'a Path>,
    pub log: &'a Path,
    pub timeout: Option<Duration>,
    pub cancel: &'a CancellationToken,
    pub on_line: Option<&'a (dyn Fn(&str) + Send + Sync)>,
}

/// Finds a program the way a shell would: a path with a `/` as it is, a bare name on `PATH`.
pub(crate) fn find_program(
    program: &str,
    cwd: Option<&Path>,
    path_var: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    if program.contains('/') {
        let path = match cwd {
            Some(dir) if Path::new(program).is_relative() => dir.join(program),
            _ => PathBuf::from(program),
        };
        return path.is_file().then_some(path);
    }
    let paths = path_var.or_else(|| std::env::var_os("PATH"))?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Runs the attempt to its end. I/O errors are about spawning or the log file.
pub(crate) async fn run(attempt: Attempt<'_>) -> std::io::Result<Exit> {
    let Some((program, args)) = attempt.argv.split_first() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the command is empty",
        ));
    };
    let mut log = std::io::BufWriter::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(attempt.log)?,
    );
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(attempt.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = attempt.cwd {
        command.current_dir(dir);
    }
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn()?;
    // Kept: `Child::id` is gone once the child is reaped, the process group may not be.
    let pid = child.id();

    // Bounded: a task printing faster than the log is written waits on its pipe.
    let (tx, mut rx) = mpsc::channel::<String>(1024);
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(forward_lines(stdout, tx.clone()));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward_lines(stderr, tx.clone()));
    }
    drop(tx);

    let deadline = async {
        match attempt.timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::pin!(deadline);

    let mut write_line = |line: &str| -> std::io::Result<()> {
        log.write_all(line.as_bytes())?;
        log.write_all(b"\n")?;
        if let Some(callback) = attempt.on_line {
            callback(line);
        }
        Ok(())
    };

    let mut lines_open = true;
    let exit = loop {
        tokio::select! {
            status = child.wait() => {
                let status = status?;
                break exit_of(status);
            }
            line = rx.recv(), if lines_open => match line {
                Some(line) => {
                    if let Err(err) = write_line(&line) {
                        // Nothing of the task may outlive a failed attempt.
                        stop(&mut child, pid).await;
                        return Err(err);
                    }
                }
                None => lines_open = false,
            },
            () = &mut deadline => {
                stop(&mut child, pid).await;
                break Exit::TimedOut(attempt.timeout.unwrap_or_default());
            }
            () = attempt.cancel.cancelled() => {
                stop(&mut child, pid).await;
                break Exit::Cancelled;
            }
        }
    };
    // The container is gone once its main process is: stop what it left running.
    kill_group(pid, true);
    let drain = async {
        while let Some(line) = rx.recv().await {
            write_line(&line)?;
        }
        Ok::<(), std::io::Error>(())
    };
    match tokio::time::timeout(DRAIN_TIMEOUT, drain).await {
        Ok(result) => result?,
        Err(_) => tracing::debug!("log pipes still open after the task exited; not waiting"),
    }
    log.flush()?;
    Ok(exit)
}

/// The longest line kept whole; longer output is cut into lines of this size.
const MAX_LINE: u64 = 64 * 1024;

async fn forward_lines(stream: impl AsyncRead + Unpin, tx: mpsc::Sender<String>) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let mut limited = (&mut reader).take(MAX_LINE);
        match limited.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                if tx
                    .send(String::from_utf8_lossy(&buf).into_owned())
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    if let Some(code) = status.code() {
        return Exit::Code(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Exit::Signal(signal);
        }
    }
    Exit::Code(-1)
}

/// SIGTERM to the process group, then SIGKILL when it has not ended within the grace period.
async fn stop(child: &mut Child, pid: Option<u32>) {
    kill_group(pid, false);
    if tokio::time::timeout(KILL_GRACE, child.wait())
        .await
        .is_err()
    {
        kill_group(pid, true);
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
}

#[cfg(unix)]
fn kill_group(pid: Option<u32>, hard: bool) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let Some(pid) = pid.and_then(|id| i32::try_from(id).ok()) else {
        return;
    };
    let signal = if hard {
        Signal::SIGKILL
    } else {
        Signal::SIGTERM
    };
    // ESRCH (the group is already gone) is the normal case after a clean exit.
    let _ = killpg(Pid::from_raw(pid), signal);
}

#[cfg(not(unix))]
fn kill_group(_pid: Option<u32>, _hard: bool) {}
