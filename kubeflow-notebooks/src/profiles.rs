//! [`Profiles`]: Kubeflow profiles (users' namespaces), and which of them the current user
//! may use.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use crate::error::{Error, Result};
use crate::profile::Profile;

/// A namespace the current user may use, from [`Profiles::namespaces`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserNamespace {
    /// The namespace (named like its profile).
    pub name: String,
    /// The profile's owner (an email), if set.
    pub owner: Option<String>,
    /// True when the current user owns the profile.
    pub is_owner: bool,
}

/// Kubeflow profiles, from [`NotebooksClient::profiles`]. Profiles are cluster scoped;
/// listing and creating them needs cluster permissions (an administrator's).
///
/// ```no_run
/// # async fn f(notebooks: kubeflow_notebooks::NotebooksClient) -> kubeflow_notebooks::Result<()> {
/// for ns in notebooks.profiles().namespaces().await? {
///     println!("{} (owner: {:?})", ns.name, ns.owner);
/// }
/// # Ok(()) }
/// ```
///
/// [`NotebooksClient::profiles`]: crate::NotebooksClient::profiles
#[derive(Clone)]
pub struct Profiles {
    client: kube::Client,
    api: Api<Profile>,
}

impl std::fmt::Debug for Profiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiles").finish_non_exhaustive()
    }
}

impl Profiles {
    pub(crate) fn new(client: kube::Client) -> Self {
        Profiles {
            api: Api::all(client.clone()),
            client,
        }
    }

    /// The typed API, for anything this handler does not offer.
    pub fn api(&self) -> &Api<Profile> {
        &self.api
    }

    /// Lists all profiles.
    ///
    /// # Errors
    /// [`Error::Kube`] (403 without permission to list profiles).
    pub async fn list(&self) -> Result<Vec<Profile>> {
        self.api
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(|e| Error::kube("listing profiles", e))
    }

    /// Reads one.
    ///
    /// # Errors
    /// [`Error::Kube`]; [`Error::is_not_found`] when it does not exist.
    pub async fn get(&self, name: &str) -> Result<Profile> {
        self.api
            .get(name)
            .await
            .map_err(|e| Error::kube(format!("reading profile {name}"), e))
    }

    /// Creates one; the profile controller then makes its namespace.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a name that cannot name a namespace or a missing owner;
    /// [`Error::Kube`] with the API server's message when it is refused.
    pub async fn create(&self, profile: &Profile) -> Result<Profile> {
        let name = profile.metadata.name.clone().unwrap_or_default();
        crate::validate::dns_label("metadata.name", &name, 63)?;
        if profile
            .spec
            .owner
            .as_ref()
            .is_none_or(|o| o.name.is_empty())
        {
            return Err(Error::invalid(
                "spec.owner",
                "a profile needs an owner (ProfileSpec::for_user)",
            ));
        }
        self.api
            .create(&PostParams::default(), profile)
            .await
            .map_err(|e| Error::kube(format!("creating profile {name}"), e))
    }

    /// Deletes one (the profile controller deletes its namespace).
    ///
    /// # Errors
    /// [`Error::Kube`]; [`Error::is_not_found`] when it does not exist.
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.api
            .delete(name, &DeleteParams::default())
            .await
            .map(|_| ())
            .map_err(|e| Error::kube(format!("deleting profile {name}"), e))
    }

    /// The user name the API server knows the current identity by (a `SelfSubjectReview`).
    ///
    /// # Errors
    /// [`Error::Kube`].
    pub async fn current_user(&self) -> Result<String> {
        let api: Api<SelfSubjectReview> = Api::all(self.client.clone());
        let review = api
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
            .map_err(|e| Error::kube("asking the API server who we are (SelfSubjectReview)", e))?;
        Ok(review
            .status
            .and_then(|s| s.user_info)
            .and_then(|u| u.username)
            .unwrap_or_default())
    }

    /// The profile namespaces the current user may use: those where the API server allows
    /// them to list notebooks (a `SelfSubjectAccessReview` per profile), owners and
    /// contributors alike. Sorted by name.
    ///
    /// # Errors
    /// [`Error::Kube`]; listing profiles needs the permission to list them cluster-wide.
    pub async fn namespaces(&self) -> Result<Vec<UserNamespace>> {
        let profiles = self.list().await?;
        let user = self.current_user().await.ok();
        let reviews: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let mut out = Vec::new();
        for p in profiles {
            let Some(name) = p.metadata.name.clone() else {
                continue;
            };
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        namespace: Some(name.clone()),
                        verb: Some("list".to_owned()),
                        group: Some("kubeflow.org".to_owned()),
                        resource: Some("notebooks".to_owned()),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let answer = reviews
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| {
                    Error::kube(format!("asking whether we may use namespace {name}"), e)
                })?;
            if answer.status.is_some_and(|s| s.allowed) {
                let owner = p.owner_name().map(str::to_owned);
                let is_owner = matches!((&owner, &user), (Some(o), Some(u)) if o == u);
                out.push(UserNamespace {
                    name,
                    owner,
                    is_owner,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
