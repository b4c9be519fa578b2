//! Service → selector → Ready pod → target port resolution.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::Api;
use kube::api::ListParams;

use super::{Error, Resolved, Target};

/// Why a pod cannot be forwarded to, or `None` when it can.
pub(super) fn pod_unusable(pod: &Pod) -> Option<String> {
    if pod.metadata.deletion_timestamp.is_some() {
        return Some("it is terminating".into());
    }
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown");
    if phase != "Running" {
        return Some(format!("its phase is {phase}, not Running"));
    }
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if !ready {
        return Some("it is not Ready".into());
    }
    None
}

fn to_port(value: i32, what: impl FnOnce() -> String) -> Result<u16, Error> {
    match u16::try_from(value) {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(Error::InvalidPort {
            what: what(),
            value,
        }),
    }
}

fn kube_err(action: String) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { action, source }
}

pub(super) async fn resolve(
    client: &kube::Client,
    namespace: &str,
    target: &Target,
) -> Result<Resolved, Error> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    match target {
        Target::Pod { name, port } => {
            let pod = pods
                .get(name)
                .await
                .map_err(kube_err(format!("getting pod {namespace}/{name}")))?;
            if let Some(reason) = pod_unusable(&pod) {
                return Err(Error::PodNotReady {
                    namespace: namespace.into(),
                    pod: name.clone(),
                    reason,
                });
            }
            Ok(Resolved {
                pod: name.clone(),
                port: *port,
            })
        }
        Target::Service { name, port } => {
            let services: Api<Service> = Api::namespaced(client.clone(), namespace);
            let svc = services
                .get(name)
                .await
                .map_err(kube_err(format!("getting service {namespace}/{name}")))?;
            resolve_service(&pods, namespace, name, *port, &svc).await
        }
    }
}

async fn resolve_service(
    pods: &Api<Pod>,
    namespace: &str,
    service: &str,
    port: u16,
    svc: &Service,
) -> Result<Resolved, Error> {
    let spec = svc.spec.as_ref();
    let selector: BTreeMap<String, String> =
        spec.and_then(|s| s.selector.clone()).unwrap_or_default();
    if selector.is_empty() {
        return Err(Error::NoSelector {
            namespace: namespace.into(),
            service: service.into(),
        });
    }
    let ports = spec.and_then(|s| s.ports.as_deref()).unwrap_or_default();
    let Some(svc_port) = ports.iter().find(|p| p.port == i32::from(port)) else {
        let available = if ports.is_empty() {
            "none".to_owned()
        } else {
            ports
                .iter()
                .map(|p| match &p.name {
                    Some(n) if !n.is_empty() => format!("{}/{n}", p.port),
                    _ => p.port.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Error::NoSuchServicePort {
            namespace: namespace.into(),
            service: service.into(),
            port,
            available,
        });
    };

    let selector_text = selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let list = pods
        .list(&ListParams::default().labels(&selector_text))
        .await
        .map_err(kube_err(format!(
            "listing pods {selector_text} in {namespace}"
        )))?;
    let matched = list.items.len();
    let mut ready: Vec<Pod> = list
        .items
        .into_iter()
        .filter(|p| pod_unusable(p).is_none())
        .collect();
    // Newest first; ties broken by name so the choice is stable.
    ready.sort_by(|a, b| {
        b.metadata
            .creation_timestamp
            .cmp(&a.metadata.creation_timestamp)
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    let Some(pod) = ready.into_iter().find(|p| p.metadata.name.is_some()) else {
        return Err(Error::NoReadyPod {
            namespace: namespace.into(),
            selector: selector_text,
            matched,
        });
    };
    let pod_name = pod.metadata.name.clone().unwrap_or_default();

    let target_port = match &svc_port.target_port {
        None => port,
        Some(IntOrString::Int(n)) => {
            to_port(*n, || format!("service {namespace}/{service} targetPort"))?
        }
        Some(IntOrString::String(name)) => match name.parse::<i32>() {
            // A numeric string is a number (the API server accepts both forms).
            Ok(n) => to_port(n, || format!("service {namespace}/{service} targetPort"))?,
            Err(_) => {
                let found = pod
                    .spec
                    .iter()
                    .flat_map(|s| s.containers.iter())
                    .flat_map(|c| c.ports.iter().flatten())
                    .find(|p| p.name.as_deref() == Some(name.as_str()));
                match found {
                    Some(p) => to_port(p.container_port, || {
                        format!("pod {namespace}/{pod_name} container port \"{name}\"")
                    })?,
                    None => {
                        return Err(Error::NamedPortNotFound {
                            namespace: namespace.into(),
                            service: service.into(),
                            port,
                            name: name.clone(),
                            pod: pod_name,
                        });
                    }
                }
            }
        },
    };
    Ok(Resolved {
        pod: pod_name,
        port: target_port,
    })
}
