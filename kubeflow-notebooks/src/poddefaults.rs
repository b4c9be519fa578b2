//! [`PodDefaults`]: the PodDefaults of a namespace.

use kube::api::{Api, DeleteParams, ListParams, PostParams};

use crate::error::{Error, Result};
use crate::poddefault::PodDefault;

/// The PodDefaults of one namespace, from [`NotebooksClient::pod_defaults`].
///
/// ```no_run
/// # async fn f(notebooks: kubeflow_notebooks::NotebooksClient) -> kubeflow_notebooks::Result<()> {
/// for pd in notebooks.pod_defaults().list().await? {
///     println!("{:?}: {:?}", pd.label(), pd.desc());
/// }
/// # Ok(()) }
/// ```
///
/// [`NotebooksClient::pod_defaults`]: crate::NotebooksClient::pod_defaults
#[derive(Clone)]
pub struct PodDefaults {
    api: Api<PodDefault>,
    namespace: String,
}

impl std::fmt::Debug for PodDefaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PodDefaults")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl PodDefaults {
    pub(crate) fn new(client: kube::Client, namespace: &str) -> Self {
        PodDefaults {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
        }
    }

    /// The typed API, for anything this handler does not offer.
    pub fn api(&self) -> &Api<PodDefault> {
        &self.api
    }

    /// The PodDefaults available to notebooks in the namespace.
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn list(&self) -> Result<Vec<PodDefault>> {
        self.api
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(|e| Error::kube(format!("listing PodDefaults in {}", self.namespace), e))
    }

    /// Reads one.
    ///
    /// # Errors
    /// [`Error::Kube`]; [`Error::is_not_found`] when it does not exist.
    pub async fn get(&self, name: &str) -> Result<PodDefault> {
        self.api
            .get(name)
            .await
            .map_err(|e| Error::kube(format!("reading PodDefault {}/{name}", self.namespace), e))
    }

    /// Creates one (in this namespace, whatever its metadata says).
    ///
    /// # Errors
    /// [`Error::Invalid`] when it has no name or an empty selector; [`Error::Kube`] with the
    /// API server's message when it is refused.
    pub async fn create(&self, pod_default: &PodDefault) -> Result<PodDefault> {
        let name = pod_default.metadata.name.clone().unwrap_or_default();
        crate::validate::dns_subdomain("metadata.name", &name)?;
        let sel = &pod_default.spec.selector;
        if sel.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && sel.match_expressions.as_ref().is_none_or(|m| m.is_empty())
        {
            return Err(Error::invalid(
                "spec.selector",
                "an empty selector would apply the PodDefault to every pod of the namespace; \
                 select a label (PodDefaultSpec::for_label)",
            ));
        }
        let mut pd = pod_default.clone();
        pd.metadata.namespace = Some(self.namespace.clone());
        self.api
            .create(&PostParams::default(), &pd)
            .await
            .map_err(|e| Error::kube(format!("creating PodDefault {}/{name}", self.namespace), e))
    }

    /// Deletes one.
    ///
    /// # Errors
    /// [`Error::Kube`]; [`Error::is_not_found`] when it does not exist.
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.api
            .delete(name, &DeleteParams::default())
            .await
            .map(|_| ())
            .map_err(|e| Error::kube(format!("deleting PodDefault {}/{name}", self.namespace), e))
    }
}
