//! Ctrl-C (SIGINT to this process) cancels a local run: the running task and what it started
//! are stopped, the run ends as cancelled. Its own test binary, since it signals the process.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline, Placeholder};
use kubeflow_pipelines::local::{LocalError, LocalRunner, RunState, TaskState};
use kubeflow_pipelines::spec::ParameterType;
use nix::sys::signal::{Signal, raise};

#[tokio::test]
async fn ctrl_c_cancels_the_run_and_stops_its_processes() -> Result<(), Box<dyn std::error::Error>>
{
    let root = tempfile::tempdir()?;
    let pid_file = root.path().join("pid");
    let long = ContainerComponent::new("long", "alpine")
        .input("pidfile", ParameterType::String)
        .command(["sh", "-ec", "sleep 60 & echo $! > \"$1\"; wait", "--"])
        .args([Placeholder::input("pidfile")]);
    let mut p = Pipeline::new("ctrl-c");
    p.add(
        long.task()
            .arg("pidfile", pid_file.display().to_string().as_str()),
    );
    let package = p.compile_package()?;

    let pid_path = pid_file.clone();
    tokio::spawn(async move {
        for _ in 0..200 {
            if std::fs::read_to_string(&pid_path).is_ok_and(|s| !s.trim().is_empty()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The runner listens for Ctrl-C from the moment the run starts.
        let _ = raise(Signal::SIGINT);
    });
    let clock = Instant::now();
    let runner = LocalRunner::new().pipeline_root(root.path());
    let err = runner
        .run(&package)
        .cancel_on_ctrl_c()
        .await
        .expect_err("cancelled");
    assert!(
        clock.elapsed() < Duration::from_secs(20),
        "{:?}",
        clock.elapsed()
    );
    let LocalError::Cancelled(record) = err else {
        panic!("not cancelled: {err}");
    };
    assert_eq!(record.state, RunState::Cancelled);
    assert_eq!(
        record.task("long").map(|t| t.state),
        Some(TaskState::Cancelled)
    );
    let pid = std::fs::read_to_string(&pid_file)?;
    let stat = format!("/proc/{}/stat", pid.trim());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive = std::fs::read_to_string(&stat).is_ok_and(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        });
        if !alive {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the task's child {pid} survived Ctrl-C"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
