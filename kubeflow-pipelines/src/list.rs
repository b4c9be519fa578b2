//! Pagination: [`Page`] and the list request builder shared by every API area.

use std::fmt;
use std::marker::PhantomData;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use kubeflow_core::Result;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{Filter, PipelinesClient};

/// One page of a list call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items the whole query matches (the server's `total_size`).
    pub total_size: i32,
    /// The token of the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// The list responses' shape; the item key differs per resource (and is `recurringRuns`,
/// camelCase, for recurring runs).
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct RawPage<T> {
    #[serde(
        default = "Vec::new",
        alias = "runs",
        alias = "experiments",
        alias = "pipelines",
        alias = "pipeline_versions",
        alias = "recurringRuns",
        alias = "recurring_runs",
        deserialize_with = "crate::serde_util::null_default"
    )]
    items: Vec<T>,
    #[serde(default)]
    total_size: Option<i32>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// The query parameters of a list call.
#[derive(Debug, Clone, Default, serde::Serialize)]
struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    experiment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_size: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
}

/// A list request: set the page size, sort order, filter (and namespace or experiment where
/// the resource has them), then [`send`](List::send) for one page or [`stream`](List::stream)
/// for every item of every page.
///
/// The server's default page size is 20 and its maximum 200. The sort order and filter are
/// sent again with every page token, as the server requires.
#[must_use = "a list request does nothing until sent or streamed"]
pub struct List<T> {
    http: PipelinesClient,
    path: String,
    query: ListQuery,
    invalid: Option<kubeflow_core::Error>,
    _items: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("List")
            .field("path", &self.path)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> List<T> {
    pub(crate) fn new(http: PipelinesClient, path: String) -> Self {
        List {
            http,
            path,
            query: ListQuery::default(),
            invalid: None,
            _items: PhantomData,
        }
    }

    pub(crate) fn set_namespace(mut self, ns: Option<String>) -> Self {
        self.query.namespace = ns;
        self
    }

    pub(crate) fn set_experiment(mut self, id: impl Into<String>) -> Self {
        self.query.experiment_id = Some(id.into());
        self
    }

    /// Items per page (1–200; the server's default is 20).
    pub fn page_size(mut self, size: u32) -> Self {
        match i32::try_from(size) {
            Ok(s) if (1..=200).contains(&s) => self.query.page_size = Some(s),
            _ => {
                self.invalid = Some(kubeflow_core::Error::invalid_argument(
                    "page_size",
                    format!("{size} is out of range: the server accepts 1 to 200"),
                ));
            }
        }
        self
    }

    /// Starts at this page (a token from a previous [`Page::next_page_token`]).
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.query.page_token = Some(token.into()).filter(|t| !t.is_empty());
        self
    }

    /// Sorts by a field: `"created_at"`, `"created_at desc"`, `"display_name asc"`.
    pub fn sort_by(mut self, sort: impl Into<String>) -> Self {
        self.query.sort_by = Some(sort.into()).filter(|s| !s.is_empty());
        self
    }

    /// Keeps only the items matching the filter.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.query.filter = (!filter.is_empty()).then(|| filter.to_query_value());
        self
    }

    /// Fetches one page.
    ///
    /// # Errors
    /// The server's error, or an invalid page size.
    pub async fn send(self) -> Result<Page<T>> {
        if let Some(e) = self.invalid {
            return Err(e);
        }
        fetch(&self.http, &self.path, &self.query).await
    }

    /// Every item of every page, fetching pages as they are consumed. Stops after a page
    /// without a next token, an empty page, or a token the server already gave (a loop).
    ///
    /// ```no_run
    /// # async fn f(kfp: kubeflow_pipelines::PipelinesClient) -> kubeflow_pipelines::Result<()> {
    /// use futures::TryStreamExt;
    /// use kubeflow_pipelines::Filter;
    /// let mut runs = kfp.runs().list().filter(Filter::eq("state", "FAILED")).page_size(200).stream();
    /// while let Some(run) = runs.try_next().await? {
    ///     println!("{:?}", run.display_name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(self) -> BoxStream<'static, Result<T>> {
        self.pages()
            .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Every page, as [`stream`](List::stream) but page by page.
    pub fn pages(self) -> BoxStream<'static, Result<Page<T>>> {
        struct State {
            http: PipelinesClient,
            path: String,
            query: ListQuery,
            invalid: Option<kubeflow_core::Error>,
            seen: std::collections::HashSet<String>,
            done: bool,
        }
        let state = State {
            http: self.http,
            path: self.path,
            seen: self.query.page_token.iter().cloned().collect(),
            query: self.query,
            invalid: self.invalid,
            done: false,
        };
        stream::unfold(state, |mut st| async move {
            if st.done {
                return None;
            }
            if let Some(e) = st.invalid.take() {
                st.done = true;
                return Some((Err(e), st));
            }
            match fetch::<T>(&st.http, &st.path, &st.query).await {
                Err(e) => {
                    st.done = true;
                    Some((Err(e), st))
                }
                Ok(page) => {
                    match &page.next_page_token {
                        Some(t) if !page.items.is_empty() && st.seen.insert(t.clone()) => {
                            st.query.page_token = Some(t.clone());
                        }
                        Some(_) if !page.items.is_empty() => {
                            tracing::warn!(path = %st.path, "the server repeated a page token; stopping the listing");
                            st.done = true;
                        }
                        _ => st.done = true,
                    }
                    Some((Ok(page), st))
                }
            }
        })
        .boxed()
    }
}

async fn fetch<T: DeserializeOwned>(
    http: &PipelinesClient,
    path: &str,
    query: &ListQuery,
) -> Result<Page<T>> {
    let raw: RawPage<T> = http.get(path).query(query).send_json().await?;
    Ok(Page {
        items: raw.items,
        total_size: raw.total_size.unwrap_or_default(),
        next_page_token: raw.next_page_token.filter(|t| !t.is_empty()),
    })
}

/// Gives a list builder wrapper (`struct X { inner: List<T> }`) the paging methods of [`List`].
macro_rules! deref_list {
    ($name:ident, $item:ty) => {
        impl $name {
            /// Items per page (1–200; the server's default is 20).
            pub fn page_size(mut self, size: u32) -> Self {
                self.inner = self.inner.page_size(size);
                self
            }

            /// Starts at this page (a token from a previous page).
            pub fn page_token(mut self, token: impl Into<String>) -> Self {
                self.inner = self.inner.page_token(token);
                self
            }

            /// Sorts by a field: `"created_at"`, `"created_at desc"`, `"display_name asc"`.
            pub fn sort_by(mut self, sort: impl Into<String>) -> Self {
                self.inner = self.inner.sort_by(sort);
                self
            }

            /// Keeps only the items matching the filter.
            pub fn filter(mut self, filter: $crate::Filter) -> Self {
                self.inner = self.inner.filter(filter);
                self
            }

            /// Fetches one page.
            ///
            /// # Errors
            /// The server's error, or an invalid page size.
            pub async fn send(self) -> kubeflow_core::Result<$crate::Page<$item>> {
                self.inner.send().await
            }

            /// Every item of every page (see [`List::stream`](crate::List::stream)).
            pub fn stream(
                self,
            ) -> futures::stream::BoxStream<'static, kubeflow_core::Result<$item>> {
                self.inner.stream()
            }

            /// Every page (see [`List::pages`](crate::List::pages)).
            pub fn pages(
                self,
            ) -> futures::stream::BoxStream<'static, kubeflow_core::Result<$crate::Page<$item>>>
            {
                self.inner.pages()
            }
        }
    };
}
pub(crate) use deref_list;
