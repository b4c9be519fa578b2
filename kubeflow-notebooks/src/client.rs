//! [`NotebooksClient`]: create, list, stop, start, wait for and open notebooks.

use std::fmt;

use chrono::{SecondsFormat, Utc};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kubeflow_core::{Endpoint, KubeflowClient};
use serde_json::json;
use url::Url;

use crate::builder::{NotebookBuilder, NotebookRequest};
use crate::error::{Error, Result};
use crate::notebook::{Notebook, STOP_ANNOTATION, gateway_path};
use crate::poddefaults::PodDefaults;
use crate::profiles::Profiles;
use crate::wait::{Target, WaitNotebook};

/// The notebooks of one namespace, through the Kubernetes API (the `Notebook` custom
/// resource, as the Jupyter web app writes it), plus PodDefaults and Profiles.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use kubeflow_core::{KubeflowClient, KubeflowConfig};
/// use kubeflow_notebooks::{NotebookBuilder, NotebookVolume, NotebooksClient};
///
/// let kf = KubeflowClient::new(KubeflowConfig::infer().await?)?;
/// let notebooks = NotebooksClient::new(&kf)?.in_namespace("team-a");
/// notebooks
///     .create(NotebookBuilder::new("my-nb", "kubeflownotebookswg/jupyter-scipy:v1.9.0")
///         .cpu("1").memory("2Gi")
///         .workspace(NotebookVolume::new_pvc("10Gi")))
///     .await?;
/// let nb = notebooks.wait_ready("my-nb").timeout(Duration::from_secs(600)).await?;
/// println!("{}", notebooks.url("my-nb")?);
/// notebooks.stop("my-nb").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NotebooksClient {
    kube: kube::Client,
    namespace: String,
    gateway: Option<Url>,
}

impl fmt::Debug for NotebooksClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotebooksClient")
            .field("namespace", &self.namespace)
            .field("gateway", &self.gateway.as_ref().map(Url::as_str))
            .finish_non_exhaustive()
    }
}

impl NotebooksClient {
    /// A client from a [`KubeflowClient`]: its Kubernetes client, its namespace (else the
    /// kubeconfig's), and its gateway URL when the endpoint is the Kubeflow gateway.
    /// No network I/O.
    ///
    /// # Errors
    /// [`kubeflow_core::Error::Config`] when no Kubernetes configuration was found.
    pub fn new(kf: &KubeflowClient) -> Result<Self> {
        let kube = kf.kube_client()?;
        let namespace = kf
            .namespace()
            .map(str::to_owned)
            .unwrap_or_else(|| kube.default_namespace().to_owned());
        let gateway = match &kf.config().endpoint {
            Endpoint::Gateway(url) => Some(url.clone()),
            _ => None,
        };
        Ok(NotebooksClient {
            kube,
            namespace,
            gateway,
        })
    }

    /// A client from a `kube::Client`, in its default namespace, without a gateway URL.
    pub fn from_kube(client: kube::Client) -> Self {
        let namespace = client.default_namespace().to_owned();
        NotebooksClient {
            kube: client,
            namespace,
            gateway: None,
        }
    }

    /// The same client working in `namespace`.
    #[must_use]
    pub fn in_namespace(&self, namespace: impl Into<String>) -> Self {
        NotebooksClient {
            namespace: namespace.into(),
            ..self.clone()
        }
    }

    /// The same client with this Kubeflow gateway URL (for [`url`](Self::url)).
    #[must_use]
    pub fn with_gateway(&self, gateway: Url) -> Self {
        NotebooksClient {
            gateway: Some(gateway),
            ..self.clone()
        }
    }

    /// The namespace this client works in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The Kubernetes client.
    pub fn kube_client(&self) -> &kube::Client {
        &self.kube
    }

    /// The typed API of notebooks in this namespace (`kubeflow.org/v1`), for anything this
    /// client does not offer.
    pub fn api(&self) -> Api<Notebook> {
        Api::namespaced(self.kube.clone(), &self.namespace)
    }

    /// PodDefaults in this namespace.
    pub fn pod_defaults(&self) -> PodDefaults {
        PodDefaults::new(self.kube.clone(), &self.namespace)
    }

    /// Profiles (cluster scoped).
    pub fn profiles(&self) -> Profiles {
        Profiles::new(self.kube.clone())
    }

    fn what(&self, name: &str) -> String {
        format!("notebook {}/{name}", self.namespace)
    }

    /// Creates a notebook and the new PVCs it asks for. Everything is first sent as a dry run
    /// (the notebook, then the PVCs), so an invalid notebook (for the builder or the API
    /// server) or an existing name leaves no PVC behind; if the notebook is then refused, the
    /// PVCs created for it are deleted again. A new PVC whose name exists already is an error
    /// (HTTP 409): use [`NotebookVolume::existing`](crate::NotebookVolume::existing) to mount it.
    ///
    /// # Errors
    /// [`Error::Invalid`] from the builder; [`Error::Kube`] with the API server's message when
    /// it refuses a PVC or the notebook (a schema violation, an existing name: HTTP 409).
    pub async fn create(&self, notebook: NotebookBuilder) -> Result<Notebook> {
        let request = notebook.namespace(self.namespace.clone()).build()?;
        self.create_request(request).await
    }

    /// Creates a notebook built elsewhere (see [`create`](Self::create)); its namespace must be
    /// unset or this client's.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub async fn create_request(&self, request: NotebookRequest) -> Result<Notebook> {
        let NotebookRequest {
            mut notebook,
            mut pvcs,
        } = request;
        let nb_name = notebook.metadata.name.clone().unwrap_or_default();
        match notebook.metadata.namespace.as_deref() {
            Some(ns) if ns != self.namespace => {
                return Err(Error::invalid(
                    "namespace",
                    format!(
                        "the notebook is for namespace `{ns}` but this client works in `{}`",
                        self.namespace
                    ),
                ));
            }
            _ => notebook.metadata.namespace = Some(self.namespace.clone()),
        }
        for pvc in &mut pvcs {
            pvc.metadata.namespace = Some(self.namespace.clone());
        }
        let pvc_api: Api<PersistentVolumeClaim> =
            Api::namespaced(self.kube.clone(), &self.namespace);
        let nb_api = self.api();
        let dry = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        nb_api
            .create(&dry, &notebook)
            .await
            .map_err(|e| Error::kube(format!("checking {} (dry run)", self.what(&nb_name)), e))?;
        for pvc in &pvcs {
            let pvc_name = pvc.metadata.name.as_deref().unwrap_or_default();
            pvc_api.create(&dry, pvc).await.map_err(|e| {
                Error::kube(
                    format!(
                        "checking volume {}/{pvc_name} for {} (dry run)",
                        self.namespace,
                        self.what(&nb_name)
                    ),
                    e,
                )
            })?;
        }

        let mut created: Vec<String> = Vec::new();
        for pvc in &pvcs {
            let pvc_name = pvc.metadata.name.clone().unwrap_or_default();
            if let Err(e) = pvc_api.create(&PostParams::default(), pvc).await {
                self.cleanup_pvcs(&pvc_api, &created).await;
                return Err(Error::kube(
                    format!("creating volume {}/{pvc_name}", self.namespace),
                    e,
                ));
            }
            tracing::debug!(namespace = %self.namespace, pvc = %pvc_name, "created volume");
            created.push(pvc_name);
        }
        match nb_api.create(&PostParams::default(), &notebook).await {
            Ok(nb) => Ok(nb),
            Err(e) => {
                self.cleanup_pvcs(&pvc_api, &created).await;
                Err(Error::kube(format!("creating {}", self.what(&nb_name)), e))
            }
        }
    }

    async fn cleanup_pvcs(&self, api: &Api<PersistentVolumeClaim>, names: &[String]) {
        for name in names {
            if let Err(e) = api.delete(name, &DeleteParams::default()).await {
                tracing::warn!(namespace = %self.namespace, pvc = %name, error = %e,
                    "could not delete a volume created for a notebook that was refused");
            }
        }
    }

    /// Reads a notebook.
    ///
    /// # Errors
    /// [`Error::Kube`]; [`Error::is_not_found`] when it does not exist.
    pub async fn get(&self, name: &str) -> Result<Notebook> {
        self.api()
            .get(name)
            .await
            .map_err(|e| Error::kube(format!("reading {}", self.what(name)), e))
    }

    /// Lists the notebooks of the namespace.
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn list(&self) -> Result<Vec<Notebook>> {
        self.list_with(&ListParams::default()).await
    }

    /// Lists the notebooks matching `params` (label or field selectors).
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn list_with(&self, params: &ListParams) -> Result<Vec<Notebook>> {
        self.api()
            .list(params)
            .await
            .map(|l| l.items)
            .map_err(|e| Error::kube(format!("listing notebooks in {}", self.namespace), e))
    }

    /// Deletes a notebook (its pod and service go with it; its PVCs stay, as with the
    /// Jupyter web app).
    ///
    /// # Errors
    /// [`Error::Kube`]; [`Error::is_not_found`] when it does not exist.
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.api()
            .delete(name, &DeleteParams::default())
            .await
            .map(|_| ())
            .map_err(|e| Error::kube(format!("deleting {}", self.what(name)), e))
    }

    /// Stops a notebook: sets the `kubeflow-resource-stopped` annotation to the current UTC
    /// time, so the controller scales its pod to zero (its volumes stay). A notebook that is
    /// already stopped is returned unchanged.
    ///
    /// # Errors
    /// [`Error::Kube`]; [`Error::is_not_found`] when it does not exist.
    pub async fn stop(&self, name: &str) -> Result<Notebook> {
        let current = self.get(name).await?;
        if current.is_stopped() {
            return Ok(current);
        }
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        self.patch_stop_annotation(name, json!(now), "stopping")
            .await
    }

    /// Starts a stopped notebook: removes the `kubeflow-resource-stopped` annotation.
    /// Starting a running notebook changes nothing.
    ///
    /// # Errors
    /// [`Error::Kube`]; [`Error::is_not_found`] when it does not exist.
    pub async fn start(&self, name: &str) -> Result<Notebook> {
        self.patch_stop_annotation(name, serde_json::Value::Null, "starting")
            .await
    }

    async fn patch_stop_annotation(
        &self,
        name: &str,
        value: serde_json::Value,
        action: &str,
    ) -> Result<Notebook> {
        let patch = json!({ "metadata": { "annotations": { STOP_ANNOTATION: value } } });
        self.api()
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| Error::kube(format!("{action} {}", self.what(name)), e))
    }

    /// Waits until the notebook's server is ready (`readyReplicas >= 1`), watching it.
    /// Fails early when its container waits for a reason that needs a change
    /// (`ImagePullBackOff`, `CrashLoopBackOff`, …, see
    /// [`NotebookPhase::FATAL_WAITING_REASONS`](crate::NotebookPhase::FATAL_WAITING_REASONS)),
    /// or when it is stopped.
    ///
    /// # Errors
    /// Awaiting it gives [`Error::NotStarting`] (stopped, or a fatal waiting reason, with the
    /// container's message), [`Error::Timeout`] (with the last phase), [`Error::Gone`] (deleted
    /// while waiting), or [`Error::Core`] when the watch cannot run (no CRD, no permission).
    pub fn wait_ready(&self, name: &str) -> WaitNotebook {
        WaitNotebook::new(self.api(), &self.namespace, name, Target::Ready)
    }

    /// Waits until the notebook is stopped (stop annotation set, no replica ready).
    ///
    /// # Errors
    /// Awaiting it gives [`Error::Timeout`], [`Error::Gone`] or [`Error::Core`], as
    /// [`wait_ready`](Self::wait_ready).
    pub fn wait_stopped(&self, name: &str) -> WaitNotebook {
        WaitNotebook::new(self.api(), &self.namespace, name, Target::Stopped)
    }

    /// The notebook's URL through the Kubeflow gateway: `{gateway}/notebook/{namespace}/{name}/`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when no gateway URL is known (the configuration's endpoint is not the
    /// gateway; see [`with_gateway`](Self::with_gateway)).
    pub fn url(&self, name: &str) -> Result<Url> {
        let gateway = self.gateway.as_ref().ok_or_else(|| {
            Error::invalid(
                "gateway",
                "no Kubeflow gateway URL is configured (use a gateway endpoint, e.g. \
                 KUBEFLOW_ENDPOINT=http://localhost:8080, or NotebooksClient::with_gateway)",
            )
        })?;
        let path = gateway_path(&self.namespace, name);
        let mut base = gateway.clone();
        if !base.path().ends_with('/') {
            let with_slash = format!("{}/", base.path());
            base.set_path(&with_slash);
        }
        base.join(path.trim_start_matches('/'))
            .map_err(|e| Error::invalid("gateway", format!("cannot join {path} to {gateway}: {e}")))
    }
}
