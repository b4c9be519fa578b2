//! `kfui`: forwards localhost:8080 to the Kubeflow gateway (`istio-system/istio-ingressgateway:80`),
//! like `kubectl port-forward svc/istio-ingressgateway -n istio-system 8080:80`, until Ctrl-C.
//!
//! ```text
//! cargo run -p kubeflow-examples --example kfui -- [--port 8080] [--namespace istio-system]
//!     [--service istio-ingressgateway | --pod NAME] [--remote-port 80]
//! ```
//!
//! Uses the kubeconfig (or the in-cluster identity), as `kube::Client::try_default()` does.
//! `RUST_LOG=kubeflow_core=debug` shows what happens per connection.

use std::process::ExitCode;

use kubeflow_core::portforward::{PortForward, PortForwardEvent};
use tokio::sync::broadcast::error::RecvError;

const USAGE: &str = "\
usage: kfui [options]

Forwards a local port to the Kubeflow gateway (a Kubernetes Service), until Ctrl-C.

options:
  -p, --port PORT          local port on 127.0.0.1 (default 8080; 0 picks a free one)
  -n, --namespace NS       namespace of the Service (default istio-system)
  -s, --service NAME       the Service (default istio-ingressgateway)
      --pod NAME           forward to this pod instead of a Service
  -r, --remote-port PORT   the Service port (default 80)
  -h, --help               this help";

#[derive(Debug)]
struct Args {
    port: u16,
    namespace: String,
    service: String,
    pod: Option<String>,
    remote_port: u16,
}

enum Parsed {
    Run(Args),
    Help,
}

fn parse_port(flag: &str, value: &str) -> Result<u16, String> {
    value
        .parse::<u16>()
        .map_err(|_| format!("{flag} expects a port number (0-65535), got {value:?}"))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut parsed = Args {
        port: 8080,
        namespace: "istio-system".into(),
        service: "istio-ingressgateway".into(),
        pod: None,
        remote_port: 80,
    };
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if matches!(flag.as_str(), "-h" | "--help") {
            return Ok(Parsed::Help);
        }
        let known = matches!(
            flag.as_str(),
            "-p" | "--port"
                | "-n"
                | "--namespace"
                | "-s"
                | "--service"
                | "--pod"
                | "-r"
                | "--remote-port"
        );
        if !known {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => return Err(format!("{flag} needs a value")),
        };
        match flag.as_str() {
            "-p" | "--port" => parsed.port = parse_port(&flag, &value)?,
            "-r" | "--remote-port" => {
                parsed.remote_port = parse_port(&flag, &value)?;
                if parsed.remote_port == 0 {
                    return Err(format!("{flag} must not be 0"));
                }
            }
            "-n" | "--namespace" if !value.is_empty() => parsed.namespace = value,
            "-s" | "--service" if !value.is_empty() => parsed.service = value,
            "--pod" if !value.is_empty() => parsed.pod = Some(value),
            _ => return Err(format!("{flag} must not be empty")),
        }
    }
    Ok(Parsed::Run(parsed))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("kfui: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();

    let client = match kube::Client::try_default().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kfui: no Kubernetes cluster configured (kubeconfig or in-cluster): {e}");
            return ExitCode::FAILURE;
        }
    };

    let forward = match &args.pod {
        Some(pod) => PortForward::to_pod(client, &args.namespace, pod, args.remote_port),
        None => PortForward::to_service(client, &args.namespace, &args.service, args.remote_port),
    }
    .local_port(args.port);
    let handle = match forward.start().await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("kfui: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local_port = handle.local_addr().port();
    let mut events = handle.events();
    println!(
        "Forwarding from {} -> {}",
        handle.local_addr(),
        handle.pod_port()
    );
    match &args.pod {
        Some(_) => println!("(pod {}/{}; Ctrl-C to stop)", args.namespace, handle.pod()),
        None => println!(
            "(service {}/{}, pod {}; Ctrl-C to stop)",
            args.namespace,
            args.service,
            handle.pod()
        ),
    }

    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            signal = &mut ctrl_c => {
                if let Err(e) = signal {
                    eprintln!("kfui: cannot listen for Ctrl-C ({e}); stopping");
                }
                break;
            }
            event = events.recv() => match event {
                Ok(PortForwardEvent::Connection { .. }) => println!("Handling connection for {local_port}"),
                Ok(PortForwardEvent::Error { message, .. }) => eprintln!("error: {message}"),
                Ok(PortForwardEvent::PodChanged { from, to }) => {
                    eprintln!("pod {from} went away; forwarding to {to}");
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
    }
    let stats = handle.stats();
    handle.stop().await;
    println!(
        "Stopped: {} connections, {} bytes sent, {} bytes received, {} errors",
        stats.connections, stats.bytes_sent, stats.bytes_received, stats.errors
    );
    ExitCode::SUCCESS
}
