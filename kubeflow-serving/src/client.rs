//! [`ServingClient`]: the control plane — InferenceServices and InferenceGraphs on the
//! Kubernetes API, readiness waits, canary rollouts, and the URLs to call.

use std::fmt;

use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use kubeflow_core::wait::{self, Check, Wait};
use kubeflow_core::{Endpoint, Error, KubeflowClient, Result};

use crate::inference::InferenceClient;
use crate::types::graph::InferenceGraph;
use crate::types::inferenceservice::InferenceService;
use crate::types::runtime::{ClusterServingRuntime, ServingRuntime};
use crate::types::trainedmodel::TrainedModel;

/// The readiness of an InferenceService or InferenceGraph while waiting (the progress state of
/// [`ServingClient::wait_ready`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Readiness {
    /// Status of the `Ready` condition (`True`, `False`, `Unknown`), `None` before the
    /// controller sets it.
    pub ready: Option<String>,
    /// The reason of the `Ready` condition.
    pub reason: Option<String>,
    /// The message of the `Ready` condition.
    pub message: Option<String>,
    /// Whether `status.observedGeneration` caught up with `metadata.generation`.
    pub generation_observed: bool,
    /// `status.modelStatus.transitionStatus` (InferenceService only).
    pub transition: Option<String>,
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ready={}", self.ready.as_deref().unwrap_or("-"))?;
        if let Some(r) = &self.reason {
            write!(f, " ({r})")?;
        }
        if !self.generation_observed {
            f.write_str(", latest spec not yet observed")?;
        }
        if let Some(t) = &self.transition {
            write!(f, ", model {t}")?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

fn isvc_readiness(isvc: &InferenceService) -> Readiness {
    let c = isvc.ready_condition();
    Readiness {
        ready: c.map(|c| c.status.clone()),
        reason: c.and_then(|c| c.reason.clone()),
        message: c.and_then(|c| c.message.clone()),
        generation_observed: isvc.generation_observed(),
        transition: isvc
            .status
            .as_ref()
            .and_then(|s| s.model_status.as_ref())
            .and_then(|m| m.transition_status.clone()),
    }
}

/// What ends an InferenceService wait with a failure: a model that failed to load or an
/// invalid spec, while not ready.
fn isvc_check(isvc: Option<&InferenceService>) -> Check<Readiness> {
    let Some(isvc) = isvc else {
        return Check::Pending(Readiness {
            ready: None,
            reason: Some("NotFound".into()),
            message: None,
            generation_observed: false,
            transition: None,
        });
    };
    let state = isvc_readiness(isvc);
    if isvc.is_ready() {
        return Check::Done(state);
    }
    let model = isvc.status.as_ref().and_then(|s| s.model_status.as_ref());
    let failed_state = model.and_then(|m| m.states.as_ref()).is_some_and(|s| {
        s.active_model_state.as_deref() == Some("FailedToLoad")
            || s.target_model_state.as_deref() == Some("FailedToLoad")
    });
    let blocked = matches!(
        model.and_then(|m| m.transition_status.as_deref()),
        Some("BlockedByFailedLoad" | "InvalidSpec")
    );
    if state.generation_observed && (failed_state || blocked) {
        let msg = isvc
            .failure()
            .unwrap_or_else(|| "the model failed to load".into());
        return Check::Failed(state, msg);
    }
    Check::Pending(state)
}

fn graph_check(g: Option<&InferenceGraph>) -> Check<Readiness> {
    let Some(g) = g else {
        return Check::Pending(Readiness {
            ready: None,
            reason: Some("NotFound".into()),
            message: None,
            generation_observed: false,
            transition: None,
        });
    };
    let c = g
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    let observed = match (
        g.metadata.generation,
        g.status.as_ref().and_then(|s| s.observed_generation),
    ) {
        (Some(gen_), Some(o)) => o >= gen_,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let state = Readiness {
        ready: c.map(|c| c.status.clone()),
        reason: c.and_then(|c| c.reason.clone()),
        message: c.and_then(|c| c.message.clone()),
        generation_observed: observed,
        transition: None,
    };
    if g.is_ready() {
        Check::Done(state)
    } else {
        Check::Pending(state)
    }
}

/// Where an [`InferenceClient`] made by [`ServingClient::inference_client`] sends requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// Through the Kubeflow gateway when the client is configured with one (the `Host` header
    /// is set to the InferenceService's host, its path prefix is kept), else to `status.url`.
    External,
    /// `status.address.url` (cluster-local; only resolvable inside the cluster).
    ClusterLocal,
}

/// Client of the KServe control plane in one namespace.
///
/// ```no_run
/// # async fn f() -> kubeflow_core::Result<()> {
/// use std::time::Duration;
/// use kubeflow_serving::{InferenceService, ServingClient};
/// let kf = kubeflow_core::KubeflowClient::new(kubeflow_core::KubeflowConfig::infer().await?)?;
/// let serving = ServingClient::new(&kf)?;
/// let isvc = InferenceService::with_model("sklearn-iris", "sklearn", "gs://kfserving-examples/models/sklearn/1.0/model");
/// serving.create(&isvc).await?;
/// let ready = serving
///     .wait_ready("sklearn-iris")
///     .timeout(Duration::from_secs(300))
///     .on_progress(|r| println!("{r}"))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServingClient {
    kube: kube::Client,
    kf: Option<KubeflowClient>,
    namespace: String,
}

impl fmt::Debug for ServingClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServingClient")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl ServingClient {
    /// A client using the Kubernetes client and the namespace of `kf` (`default` when none is
    /// configured). Its [`inference_client`](Self::inference_client)s use `kf`'s endpoint and
    /// credentials. No network I/O.
    ///
    /// # Errors
    /// [`Error::Config`] when `kf` has no Kubernetes configuration.
    pub fn new(kf: &KubeflowClient) -> Result<Self> {
        Ok(ServingClient {
            kube: kf.kube_client()?,
            namespace: kf.namespace().unwrap_or("default").to_owned(),
            kf: Some(kf.clone()),
        })
    }

    /// A client from a plain Kubernetes client, in `namespace`.
    pub fn from_kube(kube: kube::Client, namespace: impl Into<String>) -> Self {
        ServingClient {
            kube,
            kf: None,
            namespace: namespace.into(),
        }
    }

    /// The same client in another namespace.
    pub fn in_namespace(&self, namespace: impl Into<String>) -> Self {
        ServingClient {
            namespace: namespace.into(),
            ..self.clone()
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The InferenceService API (escape hatch to everything `kube` offers).
    pub fn inference_services(&self) -> Api<InferenceService> {
        Api::namespaced(self.kube.clone(), &self.namespace)
    }

    /// The InferenceGraph API.
    pub fn inference_graphs(&self) -> Api<InferenceGraph> {
        Api::namespaced(self.kube.clone(), &self.namespace)
    }

    /// The ServingRuntime API.
    pub fn serving_runtimes(&self) -> Api<ServingRuntime> {
        Api::namespaced(self.kube.clone(), &self.namespace)
    }

    /// The ClusterServingRuntime API.
    pub fn cluster_serving_runtimes(&self) -> Api<ClusterServingRuntime> {
        Api::all(self.kube.clone())
    }

    /// The TrainedModel API.
    pub fn trained_models(&self) -> Api<TrainedModel> {
        Api::namespaced(self.kube.clone(), &self.namespace)
    }

    // ------------------------------------------------------------ InferenceService

    /// Creates an InferenceService (in this client's namespace unless it names one).
    ///
    /// # Errors
    /// [`Error::Kube`]: 409 if it exists, 422 if the CRD schema rejects it, 404 if KServe is not installed.
    pub async fn create(&self, isvc: &InferenceService) -> Result<InferenceService> {
        Ok(self
            .api_for(isvc.metadata.namespace.as_deref())
            .create(&PostParams::default(), isvc)
            .await?)
    }

    /// Gets an InferenceService.
    ///
    /// # Errors
    /// [`Error::Kube`] (404 when it does not exist).
    pub async fn get(&self, name: &str) -> Result<InferenceService> {
        Ok(self.inference_services().get(name).await?)
    }

    /// Lists the InferenceServices, optionally by label selector (`app=x`).
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn list(&self, label_selector: Option<&str>) -> Result<Vec<InferenceService>> {
        let mut lp = ListParams::default();
        if let Some(s) = label_selector {
            lp = lp.labels(s);
        }
        Ok(self.inference_services().list(&lp).await?.items)
    }

    /// Applies a JSON merge patch (RFC 7386) to an InferenceService, e.g.
    /// `json!({"spec": {"predictor": {"minReplicas": 2}}})`.
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn patch(&self, name: &str, patch: &Value) -> Result<InferenceService> {
        Ok(self
            .inference_services()
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await?)
    }

    /// Replaces an InferenceService (optimistic concurrency: `metadata.resourceVersion` must be
    /// the current one, else 409).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without a name; [`Error::Kube`].
    pub async fn replace(&self, isvc: &InferenceService) -> Result<InferenceService> {
        let name = isvc
            .metadata
            .name
            .as_deref()
            .ok_or_else(|| Error::invalid_argument("isvc", "metadata.name is not set"))?;
        Ok(self
            .api_for(isvc.metadata.namespace.as_deref())
            .replace(name, &PostParams::default(), isvc)
            .await?)
    }

    /// Deletes an InferenceService (Ok also when it was already gone).
    ///
    /// # Errors
    /// [`Error::Kube`] other than 404.
    pub async fn delete(&self, name: &str) -> Result<()> {
        match self
            .inference_services()
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until the InferenceService is ready: `Ready` is `True` and
    /// `status.observedGeneration` caught up with `metadata.generation` (so a Ready left over
    /// from the previous spec does not count). Watches, no sleep-polling. Fails early with the
    /// model's `lastFailureInfo` when the model failed to load or the spec is invalid.
    /// Set a deadline with `.timeout(..)` and follow progress with `.on_progress(..)` or
    /// `.stream()`; `.await` gives the ready object.
    pub fn wait_ready(&self, name: &str) -> Wait<InferenceService, Readiness> {
        wait::object(self.inference_services(), name, isvc_check).what(format!(
            "InferenceService {}/{name} to be ready",
            self.namespace
        ))
    }

    // ------------------------------------------------------------ canary

    /// Sends `percent` % of the predictor's traffic to the latest revision
    /// (`spec.predictor.canaryTrafficPercent`; Knative mode).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `percent > 100`; [`Error::Kube`].
    pub async fn set_canary_traffic(&self, name: &str, percent: u8) -> Result<InferenceService> {
        if percent > 100 {
            return Err(Error::invalid_argument(
                "percent",
                format!("{percent} is more than 100"),
            ));
        }
        self.patch(
            name,
            &json!({"spec": {"predictor": {"canaryTrafficPercent": percent}}}),
        )
        .await
    }

    /// Promotes the canary: removes `canaryTrafficPercent`, so the latest revision takes all
    /// the traffic.
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn promote_canary(&self, name: &str) -> Result<InferenceService> {
        self.patch(
            name,
            &json!({"spec": {"predictor": {"canaryTrafficPercent": null}}}),
        )
        .await
    }

    /// Rolls the canary back: `canaryTrafficPercent: 0`, all traffic to the previously rolled
    /// out revision.
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn rollback_canary(&self, name: &str) -> Result<InferenceService> {
        self.set_canary_traffic(name, 0).await
    }

    // ------------------------------------------------------------ InferenceGraph

    /// Creates an InferenceGraph.
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn create_graph(&self, graph: &InferenceGraph) -> Result<InferenceGraph> {
        let api: Api<InferenceGraph> = match graph.metadata.namespace.as_deref() {
            Some(ns) => Api::namespaced(self.kube.clone(), ns),
            None => self.inference_graphs(),
        };
        Ok(api.create(&PostParams::default(), graph).await?)
    }

    /// Gets an InferenceGraph.
    ///
    /// # Errors
    /// [`Error::Kube`] (404 when it does not exist).
    pub async fn get_graph(&self, name: &str) -> Result<InferenceGraph> {
        Ok(self.inference_graphs().get(name).await?)
    }

    /// Lists the InferenceGraphs.
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn list_graphs(&self) -> Result<Vec<InferenceGraph>> {
        Ok(self
            .inference_graphs()
            .list(&ListParams::default())
            .await?
            .items)
    }

    /// Applies a JSON merge patch to an InferenceGraph.
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn patch_graph(&self, name: &str, patch: &Value) -> Result<InferenceGraph> {
        Ok(self
            .inference_graphs()
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await?)
    }

    /// Deletes an InferenceGraph (Ok also when it was already gone).
    ///
    /// # Errors
    /// [`Error::Kube`] other than 404.
    pub async fn delete_graph(&self, name: &str) -> Result<()> {
        match self
            .inference_graphs()
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until the InferenceGraph is ready (as [`wait_ready`](Self::wait_ready)).
    pub fn wait_graph_ready(&self, name: &str) -> Wait<InferenceGraph, Readiness> {
        wait::object(self.inference_graphs(), name, graph_check).what(format!(
            "InferenceGraph {}/{name} to be ready",
            self.namespace
        ))
    }

    // ------------------------------------------------------------ data plane

    /// An [`InferenceClient`] for this InferenceService.
    ///
    /// [`Route::External`]: with a gateway endpoint configured, requests go to the gateway with
    /// `Host: <status.url host>` and `status.url`'s path prefix (path-based routing), with the
    /// configured credentials; otherwise straight to `status.url`.
    /// [`Route::ClusterLocal`]: `status.address.url`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the status has no such URL yet (not ready) or it is invalid.
    pub fn inference_client(
        &self,
        isvc: &InferenceService,
        route: Route,
    ) -> Result<InferenceClient> {
        let name = isvc.metadata.name.as_deref().unwrap_or("?");
        let (url, what) = match route {
            Route::External => (isvc.url(), "status.url"),
            Route::ClusterLocal => (isvc.cluster_url(), "status.address.url"),
        };
        let url = url.ok_or_else(|| {
            Error::invalid_argument(
                "isvc",
                format!("InferenceService {name} has no {what} yet (is it ready?)"),
            )
        })?;
        let parsed = url::Url::parse(url).map_err(|e| {
            Error::invalid_argument("isvc", format!("{what} `{url}` is not a URL: {e}"))
        })?;
        match (&self.kf, route) {
            (Some(kf), Route::External) if kf.config().endpoint.is_gateway() => {
                let host = match (parsed.host_str(), parsed.port()) {
                    (Some(h), Some(p)) => format!("{h}:{p}"),
                    (Some(h), None) => h.to_owned(),
                    (None, _) => {
                        return Err(Error::invalid_argument(
                            "isvc",
                            format!("{what} `{url}` has no host"),
                        ));
                    }
                };
                let prefix = parsed.path().trim_matches('/');
                Ok(InferenceClient::new(kf.service(prefix)?).host(host))
            }
            (Some(kf), _) => {
                let mut config = kf.config().clone();
                config.endpoint = Endpoint::direct(url)?;
                InferenceClient::from_config(config)
            }
            (None, _) => InferenceClient::from_url(url),
        }
    }

    fn api_for(&self, namespace: Option<&str>) -> Api<InferenceService> {
        match namespace {
            Some(ns) => Api::namespaced(self.kube.clone(), ns),
            None => self.inference_services(),
        }
    }
}
