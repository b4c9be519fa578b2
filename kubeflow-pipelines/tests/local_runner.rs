//! The local runner on pipelines authored with the DSL, run for real as `sh` subprocesses:
//! parameters and artifacts, conditions, loops with fan-in and their parallelism limit, exit
//! handlers, retries, timeouts, cancellation, caching, secrets, events, and the errors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kubeflow_pipelines::dsl::{
    Condition, ContainerComponent, Pipeline, Placeholder, Retry, artifact,
};
use kubeflow_pipelines::local::{
    CancellationToken, LocalError, LocalRunner, RunEvent, RunRecord, RunState, TaskKind, TaskState,
};
use kubeflow_pipelines::spec::{CompiledPipeline, ParameterType};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A component running `script` with `sh -ec`; its arguments are `$1`, `$2`, ...
fn sh(name: &str, script: &str) -> ContainerComponent {
    ContainerComponent::new(name, "alpine").command(["sh", "-ec", script, "--"])
}

fn runner(root: &tempfile::TempDir) -> LocalRunner {
    LocalRunner::new().pipeline_root(root.path())
}

fn compile(p: &Pipeline) -> CompiledPipeline {
    p.compile_package().expect("the pipeline compiles")
}

#[tokio::test]
async fn parameters_and_artifacts_flow_between_tasks() -> TestResult {
    let make = sh("make", "seq 1 \"$1\" > \"$2\"; printf %s \"$1\" > \"$3\"")
        .input("n", ParameterType::NumberInteger)
        .output_artifact("data", artifact::dataset())
        .output("rows", ParameterType::NumberInteger)
        .args([
            Placeholder::input("n"),
            Placeholder::output_path("data"),
            Placeholder::output_file("rows"),
        ]);
    let total = sh(
        "total",
        "awk '{s+=$1} END {printf \"%d\", s}' \"$1\" > \"$2\"; echo summed",
    )
    .input_artifact("data", artifact::dataset())
    .output("sum", ParameterType::NumberInteger)
    .args([
        Placeholder::input_path("data"),
        Placeholder::output_file("sum"),
    ]);
    let mut p = Pipeline::new("flow");
    let n = p.parameter_with_default("n", ParameterType::NumberInteger, 4);
    let made = p.add(make.task().arg("n", &n));
    let summed = p.add(total.task().arg("data", made.output("data")));
    p.output("sum", summed.output("sum"));
    p.output("rows", made.output("rows"));
    p.output("data", made.output("data"));

    let root = tempfile::tempdir()?;
    let record = runner(&root).run(&compile(&p)).arg("n", 10).await?;
    assert_eq!(record.state, RunState::Succeeded);
    assert_eq!(record.output("sum"), Some(&json!(55)));
    assert_eq!(record.output("rows"), Some(&json!(10)));
    let data = record.output_artifact("data").expect("data artifact");
    assert_eq!(data.schema_title, "system.Dataset");
    let path = data.path().expect("a local artifact");
    assert!(
        path.starts_with(&record.dir),
        "{path:?} under {:?}",
        record.dir
    );
    assert_eq!(std::fs::read_to_string(&path)?.lines().count(), 10);
    assert_eq!(record.arguments.parameters["n"], json!(10));

    let total = record.task("total").expect("total ran");
    assert_eq!(total.state, TaskState::Succeeded);
    assert_eq!(total.kind, TaskKind::Container);
    assert_eq!(total.exit_code, Some(0));
    assert_eq!(total.attempts, 1);
    assert_eq!(total.inputs.artifact("data"), Some(data));
    assert_eq!(total.log_tail(5), ["summed"]);
    assert!(
        total
            .command
            .iter()
            .any(|c| *c == path.display().to_string())
    );
    assert!(total.notes.iter().any(|n| n.contains("alpine")));

    // The record on disk is the record returned.
    assert_eq!(RunRecord::load(&record.dir)?, record);
    assert_eq!(RunRecord::list(root.path())?, vec![record]);
    Ok(())
}

#[tokio::test]
async fn conditions_pick_one_branch_and_one_of_gives_its_output() -> TestResult {
    let side = sh("side", "printf %s \"$1\" > \"$2\"")
        .input("v", ParameterType::String)
        .output("out", ParameterType::String)
        .args([Placeholder::input("v"), Placeholder::output_file("out")]);
    let say = sh("say", "printf %s \"$1\" > \"$2\"")
        .input("msg", ParameterType::String)
        .output("out", ParameterType::String)
        .args([Placeholder::input("msg"), Placeholder::output_file("out")]);
    let mut p = Pipeline::new("branches");
    let v = p.parameter_with_default("v", ParameterType::String, "heads");
    let s = p.add(side.task().arg("v", &v));
    let (a, b, c) = p.branches(|br| {
        let a = br.if_(Condition::eq(s.output("out"), "heads"), |p| {
            p.add(say.task().arg("msg", "got heads"))
        });
        let b = br.elif(Condition::eq(s.output("out"), "tails"), |p| {
            p.add(say.task().arg("msg", "got tails"))
        });
        let c = br.else_(|p| p.add(say.task().arg("msg", "on its edge")));
        (a, b, c)
    });
    let picked = p.one_of([a.output("out"), b.output("out"), c.output("out")]);
    let echo = p.add(say.task().arg("msg", picked));
    p.output("picked", echo.output("out"));
    let package = compile(&p);

    let root = tempfile::tempdir()?;
    for (arg, expected) in [
        ("heads", "got heads"),
        ("tails", "got tails"),
        ("edge", "on its edge"),
    ] {
        let record = runner(&root).run(&package).arg("v", arg).await?;
        assert_eq!(record.output("picked"), Some(&json!(expected)), "v={arg}");
        assert_eq!(
            record.count(TaskState::Skipped),
            2,
            "v={arg}: {:#?}",
            record.tasks
        );
        let ran: Vec<&str> = record
            .tasks
            .iter()
            .filter(|t| t.kind == TaskKind::Container && t.state == TaskState::Succeeded)
            .map(|t| t.path.as_str())
            .collect();
        assert_eq!(ran.len(), 3, "{ran:?}");
    }
    Ok(())
}

#[tokio::test]
async fn parallel_for_fans_out_within_its_limit_and_collects() -> TestResult {
    let square = sh("square", "sleep 0.3; echo $(($1 * $1)) > \"$2\"")
        .input("x", ParameterType::NumberInteger)
        .output("out", ParameterType::NumberInteger)
        .args([Placeholder::input("x"), Placeholder::output_file("out")]);
    let total = sh(
        "total",
        "echo \"$1\" | tr -d '[] ' | tr ',' '\\n' | awk '{s+=$1} END {print s}' > \"$2\"",
    )
    .input("xs", ParameterType::List)
    .output("sum", ParameterType::NumberInteger)
    .args([Placeholder::input("xs"), Placeholder::output_file("sum")]);
    let mut p = Pipeline::new("fan");
    let xs = p.parameter_with_default("xs", ParameterType::List, json!([1, 2, 3, 4, 5]));
    let squares = p.parallel_for(&xs, ParameterType::NumberInteger, Some(2), |p, x| {
        p.add(square.task().arg("x", x))
    });
    let summed = p.add(total.task().arg("xs", squares.collected("out")));
    p.output("sum", summed.output("sum"));

    let root = tempfile::tempdir()?;
    let record = runner(&root).parallelism(8).run(&compile(&p)).await?;
    assert_eq!(record.output("sum"), Some(&json!(55)));
    let iterations: Vec<_> = record.tasks_named("square").collect();
    assert_eq!(iterations.len(), 5);
    // At most two iterations ran at the same time (parallelism=2), though 8 slots were free.
    let spans: Vec<_> = iterations
        .iter()
        .map(|t| {
            (
                t.started_at.expect("started"),
                t.finished_at.expect("finished"),
            )
        })
        .collect();
    for (start, _) in &spans {
        let overlapping = spans
            .iter()
            .filter(|(s, e)| s <= start && start < e)
            .count();
        assert!(overlapping <= 2, "{overlapping} iterations ran at once");
    }
    let looped = record
        .tasks
        .iter()
        .find(|t| t.kind == TaskKind::Loop)
        .expect("loop record");
    assert_eq!(
        looped.outputs.parameters.values().next(),
        Some(&json!([1, 4, 9, 16, 25]))
    );
    Ok(())
}

#[tokio::test]
async fn exit_handler_runs_after_a_failure_and_sees_it() -> TestResult {
    let boom = sh("boom", "echo going; echo boom >&2; exit 3");
    let after = sh("after", "echo never");
    let cleanup = sh("cleanup", "printf %s \"$1\" > \"$2\"")
        .input("status", ParameterType::TaskFinalStatus)
        .output("seen", ParameterType::Struct)
        .args([
            Placeholder::input("status"),
            Placeholder::output_file("seen"),
        ]);
    let mut p = Pipeline::new("exit");
    p.exit_handler(cleanup.task(), None, |p| {
        let b = p.add(boom.task());
        p.add(after.task().after(&b));
    });

    let root = tempfile::tempdir()?;
    let err = runner(&root)
        .run(&compile(&p))
        .await
        .expect_err("the run fails");
    let message = err.to_string();
    assert!(
        message.contains("task `exit-handler-1/boom` failed: exited with code 3"),
        "{message}"
    );
    assert!(message.contains("| boom"), "{message}");
    let LocalError::RunFailed(record) = &err else {
        panic!("not RunFailed: {err:?}");
    };
    assert_eq!(record.state, RunState::Failed);
    assert_eq!(
        err.failed_task().map(|t| t.path.as_str()),
        Some("exit-handler-1/boom")
    );
    assert_eq!(
        record.task("exit-handler-1/after").map(|t| t.state),
        Some(TaskState::NotRun)
    );
    let cleanup = record.task("cleanup").expect("the exit task ran");
    assert_eq!(cleanup.state, TaskState::Succeeded);
    let seen = &cleanup.outputs.parameters["seen"];
    assert_eq!(seen["state"], "FAILED");
    assert_eq!(seen["pipelineTaskName"], "exit-handler-1");
    assert!(
        seen["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("exited with code 3")
    );
    Ok(())
}

#[tokio::test]
async fn retries_then_succeeds() -> TestResult {
    let root = tempfile::tempdir()?;
    let marker = root.path().join("marker");
    let flaky = sh(
        "flaky",
        "if [ -e \"$1\" ]; then echo second; else touch \"$1\"; echo first >&2; exit 1; fi",
    )
    .input("marker", ParameterType::String)
    .args([Placeholder::input("marker")]);
    let mut p = Pipeline::new("retry");
    p.add(
        flaky
            .task()
            .arg("marker", marker.display().to_string().as_str())
            .retry(Retry::times(2).backoff("0.1s")),
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let record = runner(&root)
        .run(&compile(&p))
        .on_event(move |e| sink.lock().unwrap().push(e.clone()))
        .await?;
    let task = record.task("flaky").expect("flaky");
    assert_eq!((task.state, task.attempts), (TaskState::Succeeded, 2));
    let log = std::fs::read_to_string(task.log.as_ref().expect("log"))?;
    assert!(
        log.contains("first") && log.contains("attempt 2") && log.contains("second"),
        "{log}"
    );
    let events = events.lock().unwrap();
    assert!(events.iter().any(|e| matches!(e,
        RunEvent::TaskRetrying { task, attempt: 1, error, delay }
            if task == "flaky" && error.contains("code 1") && *delay == Duration::from_millis(100))));
    assert!(matches!(events.first(), Some(RunEvent::RunStarted { .. })));
    assert!(matches!(
        events.last(),
        Some(RunEvent::RunFinished {
            state: RunState::Succeeded,
            ..
        })
    ));
    Ok(())
}

#[tokio::test]
async fn a_task_past_its_timeout_is_stopped() -> TestResult {
    let slow = sh("slow", "sleep 30");
    let mut p = Pipeline::new("slow");
    p.add(slow.task().timeout_seconds(1));
    let root = tempfile::tempdir()?;
    let clock = Instant::now();
    let err = runner(&root)
        .run(&compile(&p))
        .await
        .expect_err("times out");
    assert!(
        clock.elapsed() < Duration::from_secs(10),
        "{:?}",
        clock.elapsed()
    );
    assert!(err.to_string().contains("timed out after 1.0s"), "{err}");

    // The runner-wide timeout applies to tasks without their own.
    let mut p = Pipeline::new("slow2");
    p.add(slow.task());
    let err = runner(&root)
        .task_timeout(Duration::from_millis(300))
        .run(&compile(&p))
        .await
        .expect_err("times out");
    assert!(err.to_string().contains("timed out after 0.3s"), "{err}");
    Ok(())
}

#[cfg(target_os = "linux")]
fn alive(pid: &str) -> bool {
    // A zombie waiting for its reaper counts as stopped.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn cancellation_stops_running_tasks_and_what_they_started() -> TestResult {
    let root = tempfile::tempdir()?;
    let pid_file = root.path().join("pid");
    // The task starts a grandchild and waits for it: both must go.
    let long = sh("long", "sleep 60 & echo $! > \"$1\"; wait")
        .input("pidfile", ParameterType::String)
        .args([Placeholder::input("pidfile")]);
    let after = sh("after", "echo never");
    let mut p = Pipeline::new("cancel");
    let l = p.add(
        long.task()
            .arg("pidfile", pid_file.display().to_string().as_str()),
    );
    p.add(after.task().after(&l));
    let token = CancellationToken::new();
    let canceller = token.clone();
    let pid_path = pid_file.clone();
    tokio::spawn(async move {
        for _ in 0..100 {
            if std::fs::read_to_string(&pid_path).is_ok_and(|s| !s.trim().is_empty()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        canceller.cancel();
    });
    let clock = Instant::now();
    let err = runner(&root)
        .run(&compile(&p))
        .cancel_token(token)
        .await
        .expect_err("cancelled");
    assert!(
        clock.elapsed() < Duration::from_secs(15),
        "{:?}",
        clock.elapsed()
    );
    let LocalError::Cancelled(record) = err else {
        panic!("not Cancelled: {err}");
    };
    assert_eq!(record.state, RunState::Cancelled);
    assert_eq!(
        record.task("long").map(|t| t.state),
        Some(TaskState::Cancelled)
    );
    assert_eq!(
        record.task("after").map(|t| t.state),
        Some(TaskState::Cancelled)
    );
    let grandchild = std::fs::read_to_string(&pid_file)?;
    let grandchild = grandchild.trim();
    let mut gone = false;
    for _ in 0..50 {
        if !alive(grandchild) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        gone,
        "process {grandchild} started by the task survived the cancellation"
    );
    Ok(())
}

#[tokio::test]
async fn caching_reuses_outputs_of_identical_tasks() -> TestResult {
    let make = sh("make", "echo made; printf '%s\\n' \"$1\" > \"$2\"")
        .input("text", ParameterType::String)
        .output_artifact("data", artifact::dataset())
        .args([Placeholder::input("text"), Placeholder::output_path("data")]);
    let count = sh("count", "wc -c < \"$1\" | tr -d ' ' > \"$2\"")
        .input_artifact("data", artifact::dataset())
        .output("n", ParameterType::NumberInteger)
        .args([
            Placeholder::input_path("data"),
            Placeholder::output_file("n"),
        ]);
    let mut p = Pipeline::new("cached");
    let text = p.parameter_with_default("text", ParameterType::String, "abc");
    let m = p.add(make.task().arg("text", &text));
    let c = p.add(count.task().arg("data", m.output("data")));
    p.output("n", c.output("n"));
    let package = compile(&p);

    let root = tempfile::tempdir()?;
    let cached = runner(&root).caching(true);
    let first = cached.run(&package).await?;
    assert_eq!(first.count(TaskState::Succeeded), 2);
    let second = cached.run(&package).await?;
    assert_eq!(second.count(TaskState::Cached), 2, "{:#?}", second.tasks);
    assert_eq!(second.output("n"), Some(&json!(4)));
    let origin = second.task("make").and_then(|t| t.cached_from.clone());
    assert_eq!(origin, Some(format!("{}/make", first.run_id)));
    // A different input runs again; caching off runs everything.
    let third = cached.run(&package).arg("text", "abcdef").await?;
    assert_eq!(third.count(TaskState::Cached), 0);
    assert_eq!(third.output("n"), Some(&json!(7)));
    let uncached = runner(&root).run(&package).await?;
    assert_eq!(uncached.count(TaskState::Cached), 0);
    Ok(())
}

#[tokio::test]
async fn secrets_reach_the_environment_but_never_the_record() -> TestResult {
    let use_secret = sh("use-secret", "printf %s \"${#PASS}\" > \"$1\"")
        .output("length", ParameterType::NumberInteger)
        .args([Placeholder::output_file("length")]);
    let mut p = Pipeline::new("secret");
    let t = p.add(
        use_secret
            .task()
            .secret_as_env("creds", [("password", "PASS")], false),
    );
    p.output("length", t.output("length"));
    let package = compile(&p);

    let root = tempfile::tempdir()?;
    let err = runner(&root)
        .run(&package)
        .await
        .expect_err("no secret given");
    assert!(
        matches!(&err, LocalError::Unsupported { task, feature } if task == "use-secret"
            && feature.contains("LocalRunner::secret(\"creds\"")),
        "{err}"
    );
    let with_secret = runner(&root)
        .caching(true)
        .stream_logs(true)
        .secret("creds", [("password", "hunter2-secret")]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let record = with_secret
        .run(&package)
        .on_event(move |e| sink.lock().unwrap().push(format!("{e} {e:?}")))
        .await?;
    assert_eq!(record.output("length"), Some(&json!(14)));
    let on_disk = std::fs::read_to_string(record.dir.join("run.json"))?;
    assert!(!on_disk.contains("hunter2"));
    assert!(!format!("{with_secret:?}").contains("hunter2"));
    assert!(!events.lock().unwrap().iter().any(|e| e.contains("hunter2")));
    // Nothing written under the pipeline root (task files, cache entries) holds it.
    fn scan(dir: &std::path::Path) -> bool {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                let path = entry.path();
                if path.is_dir() {
                    scan(&path)
                } else {
                    std::fs::read(&path)
                        .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains("hunter2"))
                }
            })
    }
    assert!(
        !scan(root.path()),
        "the secret was written under the pipeline root"
    );
    Ok(())
}

#[tokio::test]
async fn clear_errors_before_and_during_the_run() -> TestResult {
    let root = tempfile::tempdir()?;
    let echo = sh("echo", "echo \"$1\"")
        .input("n", ParameterType::NumberInteger)
        .args([Placeholder::input("n")]);
    let mut p = Pipeline::new("errors");
    let n = p.parameter("n", ParameterType::NumberInteger);
    p.add(echo.task().arg("n", &n));
    let package = compile(&p);
    let run = runner(&root);

    let err = run.run(&package).await.expect_err("missing argument");
    assert_eq!(
        err.to_string(),
        "pipeline argument `n`: required, and the pipeline gives no default"
    );
    let err = run
        .run(&package)
        .arg("n", "3")
        .await
        .expect_err("wrong type");
    assert_eq!(
        err.to_string(),
        "pipeline argument `n`: expected an integer, got a string (1 character)"
    );
    let err = run
        .run(&package)
        .arg("n", 3)
        .arg("m", 1)
        .await
        .expect_err("unknown");
    assert!(
        err.to_string()
            .contains("`m`: the pipeline has no such parameter (it has: n)"),
        "{err}"
    );
    // None of these created a run folder.
    assert_eq!(
        std::fs::read_dir(root.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );

    // A command that is not on this machine.
    let missing = ContainerComponent::new("train", "gcr.io/acme/trainer:1")
        .command(["acme-train-no-such-binary", "--fast"]);
    let mut p = Pipeline::new("missing");
    p.add(missing.task());
    let err = run.run(&compile(&p)).await.expect_err("not found");
    let text = err.to_string();
    assert!(
        text.contains("command `acme-train-no-such-binary` not found on this machine"),
        "{text}"
    );
    assert!(text.contains("gcr.io/acme/trainer:1"), "{text}");

    // Volumes are refused before anything runs, naming the task and the feature.
    let mut p = Pipeline::new("pvc");
    p.add(
        sh("uses-pvc", "ls /data")
            .task()
            .mount_pvc("my-pvc", "/data"),
    );
    let err = run.run(&compile(&p)).await.expect_err("unsupported");
    assert_eq!(
        err.to_string(),
        "task `uses-pvc` cannot run locally: it mounts a PersistentVolumeClaim at `/data` \
         (kfp-kubernetes mount_pvc); volumes need a cluster"
    );
    Ok(())
}

#[tokio::test]
async fn a_lightweight_component_without_python_kfp_is_a_clear_error() -> TestResult {
    // The shape the Python SDK compiles a `@dsl.component` to.
    let lightweight = ContainerComponent::new("add", "python:3.12")
        .command([
            "sh",
            "-ec",
            "program_path=$(mktemp -d)\nprintf \"%s\" \"$0\" > \"$program_path/ephemeral_component.py\"\n\
             _KFP_RUNTIME=true python3 -m kfp.dsl.executor_main --component_module_path \
             \"$program_path/ephemeral_component.py\" \"$@\"\n",
            "def add():\n    pass\n",
        ])
        .args(["--executor_input", "{{$}}", "--function_to_execute", "add"]);
    let mut p = Pipeline::new("py");
    p.add(lightweight.task());
    let root = tempfile::tempdir()?;
    let err = runner(&root)
        .python("/no/such/python3")
        .run(&compile(&p))
        .await
        .expect_err("no python");
    let text = err.to_string();
    assert!(
        matches!(err, LocalError::PythonUnavailable { .. }),
        "{text}"
    );
    assert!(text.contains("`/no/such/python3` was not found"), "{text}");
    assert!(text.contains("KUBEFLOW_LOCAL_PYTHON"), "{text}");
    Ok(())
}

#[tokio::test]
async fn logs_stream_as_events_when_asked() -> TestResult {
    let chatty = sh("chatty", "echo one; echo two >&2");
    let mut p = Pipeline::new("chatty");
    p.add(chatty.task());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let root = tempfile::tempdir()?;
    runner(&root)
        .stream_logs(true)
        .run(&compile(&p))
        .on_event(move |e| {
            if let RunEvent::TaskLog { line, .. } = e {
                sink.lock().unwrap().push(line.clone());
            }
        })
        .await?;
    let mut lines = lines.lock().unwrap().clone();
    lines.sort();
    assert_eq!(lines, ["one", "two"]);
    Ok(())
}

#[tokio::test]
async fn a_component_runs_on_its_own() -> TestResult {
    let root = tempfile::tempdir()?;
    let input = root.path().join("words.txt");
    std::fs::write(&input, "a b c\nd e\n")?;
    let count = sh(
        "count-words",
        "wc -w < \"$1\" | tr -d ' ' > \"$2\"; printf %s \"$3\" > \"$4\"",
    )
    .input_artifact("text", artifact::dataset())
    .input_with_default("label", ParameterType::String, "words")
    .output("n", ParameterType::NumberInteger)
    .output("label_out", ParameterType::String)
    .args([
        Placeholder::input_path("text"),
        Placeholder::output_file("n"),
        Placeholder::input("label"),
        Placeholder::output_file("label_out"),
    ]);
    let package = count.to_pipeline()?;
    assert_eq!(package.pipeline_spec.name(), Some("count-words"));
    let record = runner(&root)
        .run(&package)
        .artifact_arg("text", &input)
        .await?;
    assert_eq!(record.output("n"), Some(&json!(5)));
    assert_eq!(record.output("label_out"), Some(&json!("words")));
    let err = runner(&root).run(&package).await.expect_err("no artifact");
    assert!(
        err.to_string().contains("`text`: input artifact required"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn tasks_behind_a_failure_are_all_settled_whatever_their_names() -> TestResult {
    // `z-fail` fails; `m-after` (depends on it) is not run; `a-last` depends on `m-after` and
    // sorts before it: it must be settled as not run too, not left waiting.
    let fail = sh("z-fail", "exit 1");
    let step = sh("m-after", "true");
    let last = sh("a-last", "true");
    let mut p = Pipeline::new("order");
    let f = p.add(fail.task());
    let m = p.add(step.task().after(&f));
    p.add(last.task().after(&m));
    let root = tempfile::tempdir()?;
    let err = runner(&root).run(&compile(&p)).await.expect_err("fails");
    let LocalError::RunFailed(record) = &err else {
        panic!("not RunFailed: {err}");
    };
    assert_eq!(
        record.task("m-after").map(|t| t.state),
        Some(TaskState::NotRun)
    );
    assert_eq!(
        record.task("a-last").map(|t| t.state),
        Some(TaskState::NotRun)
    );
    assert!(!err.to_string().contains("can never start"), "{err}");
    Ok(())
}

#[tokio::test]
async fn ignore_upstream_failure_runs_with_the_default() -> TestResult {
    let fail = sh("fail", "exit 1")
        .output("out", ParameterType::String)
        .args([Placeholder::output_file("out")]);
    let report = sh("report", "printf %s \"$1\" > \"$2\"")
        .input_with_default("msg", ParameterType::String, "upstream failed")
        .output("seen", ParameterType::String)
        .args([Placeholder::input("msg"), Placeholder::output_file("seen")]);
    let mut p = Pipeline::new("ignore");
    let f = p.add(fail.task());
    p.add(report.task().arg("msg", f.output("out")));
    let mut package = compile(&p);
    // What `report(msg=fail.output).ignore_upstream_failure()` compiles to.
    let root_dag = package
        .pipeline_spec
        .root
        .as_mut()
        .and_then(|r| r.dag.as_mut())
        .expect("root dag");
    let task = root_dag.tasks.get_mut("report").expect("report task");
    let mut policy = kubeflow_pipelines::spec::TriggerPolicy::default();
    policy.strategy = Some(kubeflow_pipelines::spec::TriggerStrategy::AllUpstreamTasksCompleted);
    task.trigger_policy = Some(policy);

    let root = tempfile::tempdir()?;
    let err = runner(&root).run(&package).await.expect_err("fail fails");
    let record = err.record().expect("record");
    let report = record.task("report").expect("report ran");
    assert_eq!(report.state, TaskState::Succeeded, "{:?}", report.error);
    assert_eq!(
        report.outputs.parameter("seen"),
        Some(&json!("upstream failed"))
    );
    Ok(())
}

#[tokio::test]
async fn the_cache_key_covers_the_environment() -> TestResult {
    let echo = sh("echo-mode", "printf %s \"$MODE\" > \"$1\"")
        .output("mode", ParameterType::String)
        .args([Placeholder::output_file("mode")]);
    let mut p = Pipeline::new("env");
    let t = p.add(echo.task());
    p.output("mode", t.output("mode"));
    let package = compile(&p);
    let root = tempfile::tempdir()?;
    let dev = runner(&root).caching(true).env("MODE", "dev");
    assert_eq!(dev.run(&package).await?.output("mode"), Some(&json!("dev")));
    let again = dev.run(&package).await?;
    assert_eq!(again.count(TaskState::Cached), 1);
    let prod = runner(&root).caching(true).env("MODE", "prod");
    let record = prod.run(&package).await?;
    assert_eq!(record.count(TaskState::Cached), 0);
    assert_eq!(record.output("mode"), Some(&json!("prod")));
    Ok(())
}

#[tokio::test]
async fn hostile_specs_are_errors_not_panics_or_escapes() -> TestResult {
    let root = tempfile::tempdir()?;
    // An output name that would be a path outside the task's folder.
    let writer = sh("writer", "true")
        .output("out", ParameterType::String)
        .args([Placeholder::output_file("out")]);
    let mut p = Pipeline::new("names");
    p.add(writer.task());
    let mut package = compile(&p);
    let component = package
        .pipeline_spec
        .components
        .values_mut()
        .find(|c| c.output_definitions.is_some())
        .expect("component");
    let outputs = component.output_definitions.as_mut().expect("outputs");
    let def = outputs.parameters.remove("out").expect("out");
    outputs.parameters.insert("../../escape".into(), def);
    let err = runner(&root).run(&package).await.expect_err("refused");
    assert!(
        matches!(&err, LocalError::InvalidPipeline { message, .. } if message.contains("../../escape")),
        "{err}"
    );

    // A timeout too large for a Duration, a deeply nested condition.
    let quick = sh("quick", "true");
    let mut p = Pipeline::new("huge");
    p.add(quick.task().timeout_seconds(i64::MAX));
    runner(&root).run(&compile(&p)).await?;

    let mut p = Pipeline::new("deep");
    p.add(quick.task());
    let mut package = compile(&p);
    let task = package
        .pipeline_spec
        .root
        .as_mut()
        .and_then(|r| r.dag.as_mut())
        .and_then(|d| d.tasks.get_mut("quick"))
        .expect("task");
    let mut policy = kubeflow_pipelines::spec::TriggerPolicy::default();
    policy.condition = Some(format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000)));
    task.trigger_policy = Some(policy);
    let err = runner(&root)
        .run(&package)
        .await
        .expect_err("bad condition");
    let text = err.to_string();
    assert!(
        text.contains("nests deeper"),
        "{}",
        &text[..text.len().min(400)]
    );
    assert!(
        text.len() < 2_000,
        "the message holds the whole expression: {} bytes",
        text.len()
    );
    Ok(())
}
