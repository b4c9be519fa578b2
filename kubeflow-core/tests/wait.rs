//! The wait helper with synthetic observations, polls, a wiremock watch, and paused time.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, stream};
use kubeflow_core::wait::{self, Check, WaitError, WaitEvent};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Debug, Clone, PartialEq)]
struct Run {
    state: &'static str,
    message: &'static str,
}

fn run(state: &'static str) -> Run {
    Run { state, message: "" }
}

/// The KFP-like condition used by most tests.
fn run_condition(r: Option<&Run>) -> Check<String> {
    match r {
        None => Check::Pending("absent".into()),
        Some(r) => match r.state {
            "SUCCEEDED" => Check::Done(r.state.into()),
            "FAILED" => Check::Failed(r.state.into(), format!("the run failed: {}", r.message)),
            s => Check::Pending(s.into()),
        },
    }
}

fn observations(
    items: Vec<Option<Run>>,
) -> impl futures::Stream<Item = Result<Option<Run>, std::io::Error>> {
    stream::iter(items.into_iter().map(Ok))
}

#[tokio::test]
async fn progress_is_reported_only_on_change() -> TestResult {
    let seq = vec![
        None,
        Some(run("PENDING")),
        Some(run("PENDING")),
        Some(run("RUNNING")),
        Some(run("RUNNING")),
        Some(run("RUNNING")),
        Some(run("SUCCEEDED")),
    ];
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let events: Vec<_> = wait::from_stream("run r1", observations(seq.clone()), run_condition)
        .on_progress(move |s: &String| seen2.lock().map(|mut v| v.push(s.clone())).unwrap_or(()))
        .stream()
        .collect()
        .await;
    let events: Vec<WaitEvent<String, Run>> = events.into_iter().collect::<Result<_, _>>()?;
    assert_eq!(
        events,
        vec![
            WaitEvent::Progress("absent".into()),
            WaitEvent::Progress("PENDING".into()),
            WaitEvent::Progress("RUNNING".into()),
            WaitEvent::Progress("SUCCEEDED".into()),
            WaitEvent::Done(Some(run("SUCCEEDED"))),
        ]
    );
    assert_eq!(
        *seen.lock().map_err(|_| "poisoned")?,
        vec!["absent", "PENDING", "RUNNING", "SUCCEEDED"]
    );

    // Awaited directly: the object that satisfied the condition.
    let done = wait::from_stream("run r1", observations(seq), run_condition).await?;
    assert_eq!(done, Some(run("SUCCEEDED")));
    Ok(())
}

#[tokio::test]
async fn failure_stops_with_the_message() -> TestResult {
    let seq = vec![
        Some(run("RUNNING")),
        Some(Run {
            state: "FAILED",
            message: "OOMKilled",
        }),
        Some(run("SUCCEEDED")),
    ];
    let err = wait::from_stream("run r2", observations(seq), run_condition)
        .await
        .err()
        .ok_or("expected an error")?;
    match &err {
        WaitError::Failed {
            what,
            message,
            state,
        } => {
            assert_eq!(what, "run r2");
            assert_eq!(message, "the run failed: OOMKilled");
            assert_eq!(state, "\"FAILED\"");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "run r2 failed: the run failed: OOMKilled (state: \"FAILED\")"
    );
    Ok(())
}

#[tokio::test]
async fn object_deleted_is_gone() -> TestResult {
    // Absent at first (not created yet) is fine; absent after being seen is Gone.
    let seq = vec![None, Some(run("RUNNING")), None];
    let err = wait::from_stream("run r3", observations(seq), run_condition)
        .await
        .err()
        .ok_or("expected an error")?;
    match err {
        WaitError::Gone { what, last_state } => {
            assert_eq!(what, "run r3");
            assert_eq!(last_state.as_deref(), Some("\"RUNNING\""));
        }
        other => panic!("expected Gone, got {other:?}"),
    }

    // Waiting for a deletion: the condition accepts `None`.
    let seq = vec![Some(run("RUNNING")), None];
    let gone = wait::from_stream("deletion of r3", observations(seq), |r: Option<&Run>| {
        Check::from(r.is_none())
    })
    .await?;
    assert_eq!(gone, None);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn deadline_names_what_and_the_last_state() -> TestResult {
    let seq =
        observations(vec![Some(run("PENDING")), Some(run("RUNNING"))]).chain(stream::pending());
    let started = tokio::time::Instant::now();
    let err = wait::from_stream("run r4 to finish", seq, run_condition)
        .timeout(Duration::from_secs(30))
        .await
        .err()
        .ok_or("expected an error")?;
    assert_eq!(started.elapsed(), Duration::from_secs(30));
    match &err {
        WaitError::Deadline {
            what,
            after,
            last_state,
        } => {
            assert_eq!(what, "run r4 to finish");
            assert_eq!(*after, Duration::from_secs(30));
            assert_eq!(last_state.as_deref(), Some("\"RUNNING\""));
        }
        other => panic!("expected Deadline, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "gave up waiting for run r4 to finish after 30s; last observed state: \"RUNNING\""
    );
    Ok(())
}

#[tokio::test]
async fn source_errors_and_the_end_of_observations() -> TestResult {
    let seq = stream::iter(vec![
        Ok(Some(run("RUNNING"))),
        Err(std::io::Error::other("connection reset")),
    ]);
    let err = wait::from_stream("run r5", seq, run_condition)
        .await
        .err()
        .ok_or("expected an error")?;
    assert!(matches!(err, WaitError::Source { .. }), "{err:?}");
    assert_eq!(err.to_string(), "run r5: connection reset");

    let err = wait::from_stream(
        "run r6",
        observations(vec![Some(run("RUNNING"))]),
        run_condition,
    )
    .await
    .err()
    .ok_or("expected an error")?;
    assert!(matches!(err, WaitError::Ended { .. }), "{err:?}");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn poll_backs_off_between_calls() -> TestResult {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let started = tokio::time::Instant::now();
    let done = wait::poll(
        "run r7",
        move || {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(match n {
                    0..=1 => run("PENDING"),
                    2..=4 => run("RUNNING"),
                    _ => run("SUCCEEDED"),
                })
            }
        },
        run_condition,
    )
    .poll_interval(Duration::from_secs(1), Duration::from_secs(2))
    .timeout(Duration::from_secs(600))
    .await?;
    assert_eq!(done, Some(run("SUCCEEDED")));
    assert_eq!(calls.load(Ordering::SeqCst), 6);
    // Five pauses: ~1 s, ~1.5 s, then capped at ~2 s, each jittered by ±20 %.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs_f64(8.5 * 0.8)
            && elapsed <= Duration::from_secs_f64(8.5 * 1.2),
        "{elapsed:?}"
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn poll_not_found_after_seen_is_gone_and_deadline_applies() -> TestResult {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let err = wait::poll(
        "run r8",
        move || {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Ok(run("RUNNING"))
                } else {
                    let e = kubeflow_core::ApiError::from_body(
                        404,
                        "GET",
                        "/apis/v2beta1/runs/r8",
                        Some("application/json"),
                        br#"{"code":5,"message":"run not found"}"#,
                    );
                    Err(kubeflow_core::Error::Api(Box::new(e)))
                }
            }
        },
        run_condition,
    )
    .await
    .err()
    .ok_or("expected an error")?;
    assert!(matches!(err, WaitError::Gone { .. }), "{err:?}");

    // Another error ends the wait with it; a slow state hits the deadline.
    let err = wait::poll(
        "run r9",
        || async { Err::<Run, _>(kubeflow_core::Error::config("boom")) },
        run_condition,
    )
    .await
    .err()
    .ok_or("expected an error")?;
    assert_eq!(err.to_string(), "run r9: invalid configuration: boom");

    let err = wait::poll("run r10", || async { Ok(run("RUNNING")) }, run_condition)
        .timeout(Duration::from_secs(60))
        .await
        .err()
        .ok_or("expected an error")?;
    assert!(matches!(err, WaitError::Deadline { .. }), "{err:?}");
    Ok(())
}

/// `wait::object` watches a real resource type through kube's watcher (list, then watch),
/// here against a wiremock apiserver.
#[tokio::test]
async fn object_watch_through_the_apiserver() -> TestResult {
    use k8s_openapi::api::core::v1::Pod;

    let server = MockServer::start().await;
    let pod = |phase: &str, rv: &str| {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "train-0", "namespace": "ns", "resourceVersion": rv },
            "status": { "phase": phase },
        })
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/namespaces/ns/pods"))
        .and(query_param("watch", "true"))
        .and(query_param("fieldSelector", "metadata.name=train-0"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            "{}\n{}\n",
            json!({ "type": "MODIFIED", "object": pod("Running", "2") }),
            json!({ "type": "MODIFIED", "object": pod("Succeeded", "3") }),
        )))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/namespaces/ns/pods"))
        .and(query_param("fieldSelector", "metadata.name=train-0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "apiVersion": "v1", "kind": "PodList",
            "metadata": { "resourceVersion": "1" },
            "items": [pod("Pending", "1")],
        })))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = kube::Client::try_from(kube::Config::new(server.uri().parse()?))?;
    let pods: kube::Api<Pod> = kube::Api::namespaced(client, "ns");

    let phases = Arc::new(Mutex::new(Vec::new()));
    let p = phases.clone();
    let done = wait::object(pods, "train-0", |pod: Option<&Pod>| {
        let phase = pod
            .and_then(|p| p.status.as_ref())
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        match phase.as_str() {
            "Succeeded" => Check::Done(phase),
            "Failed" => Check::Failed(phase, "the pod failed".into()),
            _ => Check::Pending(phase),
        }
    })
    .timeout(Duration::from_secs(20))
    .on_progress(move |s: &String| p.lock().map(|mut v| v.push(s.clone())).unwrap_or(()))
    .await?;
    let done = done.ok_or("expected the pod")?;
    assert_eq!(done.metadata.resource_version.as_deref(), Some("3"));
    assert_eq!(
        *phases.lock().map_err(|_| "poisoned")?,
        vec!["Pending", "Running", "Succeeded"]
    );
    Ok(())
}

#[tokio::test]
async fn object_watch_forbidden_fails_fast() -> TestResult {
    use k8s_openapi::api::core::v1::ConfigMap;

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/namespaces/ns/configmaps"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "configmaps is forbidden", "reason": "Forbidden", "code": 403,
        })))
        .mount(&server)
        .await;
    let client = kube::Client::try_from(kube::Config::new(server.uri().parse()?))?;
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(client, "ns");
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        wait::object(api, "cm", |c: Option<&ConfigMap>| Check::from(c.is_some())),
    )
    .await?
    .err()
    .ok_or("expected an error")?;
    assert!(matches!(err, WaitError::Source { .. }), "{err:?}");
    assert!(err.to_string().starts_with("ConfigMap cm: "), "{err}");
    assert!(err.to_string().contains("forbidden"), "{err}");
    Ok(())
}

/// Waits can be spawned: the future and the stream are `Send + 'static`.
#[tokio::test]
async fn waits_can_be_spawned() -> TestResult {
    let w = wait::from_stream(
        "run s",
        observations(vec![Some(run("SUCCEEDED"))]),
        run_condition,
    );
    let done = tokio::spawn(w.into_future()).await??;
    assert_eq!(done, Some(run("SUCCEEDED")));
    let w = wait::from_stream(
        "run s",
        observations(vec![Some(run("SUCCEEDED"))]),
        run_condition,
    );
    let events = tokio::spawn(async move { w.stream().count().await }).await?;
    assert_eq!(events, 2);
    Ok(())
}

/// A source that is always ready (never yields to the timer) still hits the deadline.
#[tokio::test]
async fn a_busy_source_cannot_starve_the_deadline() -> TestResult {
    let busy = stream::repeat_with(|| Ok::<_, std::io::Error>(Some(run("RUNNING"))));
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        wait::from_stream("run busy", busy, run_condition).timeout(Duration::from_millis(50)),
    )
    .await?
    .err()
    .ok_or("expected an error")?;
    assert!(matches!(err, WaitError::Deadline { .. }), "{err:?}");
    Ok(())
}
