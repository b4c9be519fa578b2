//! A bearer token read from a file and re-read when the file changes: KFP's projected
//! service-account token at `/var/run/secrets/kubeflow/pipelines/token`
//! (`KF_PIPELINES_SA_TOKEN_PATH`), which the kubelet rotates by swapping a symlink.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use http::HeaderValue;

use super::{auth_error, sensitive_value};
use crate::Result;

/// Even when the file looks unchanged, read it again after this long (a file system with a
/// coarse modification time could hide a rewrite of the same length).
const MAX_AGE: Duration = Duration::from_secs(60);

/// A token file and the last value read from it.
pub(super) struct TokenFile {
    path: PathBuf,
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    stamp: Stamp,
    value: HeaderValue,
    read_at: Instant,
}

/// What tells us the file changed: cheap to get (one `stat`, following symlinks).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    dev: u64,
    #[cfg(unix)]
    ino: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            dev: meta.dev(),
            #[cfg(unix)]
            ino: meta.ino(),
        }
    }
}

impl TokenFile {
    /// No I/O: the file is read on first use.
    pub(super) fn new(path: PathBuf) -> Self {
        TokenFile {
            path,
            cache: Mutex::new(None),
        }
    }

    /// `Bearer <token>`, from the cache when the file has not changed.
    pub(super) async fn header(&self) -> Result<HeaderValue> {
        let stamp = self.stamp().await?;
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(c) = cache.as_ref()
                && c.stamp == stamp
                && c.read_at.elapsed() < MAX_AGE
            {
                return Ok(c.value.clone());
            }
        }
        self.read(stamp).await
    }

    /// Forgets the cached token and reads the file again.
    pub(super) async fn refresh(&self) -> Result<()> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let stamp = self.stamp().await?;
        self.read(stamp).await.map(drop)
    }

    async fn stamp(&self) -> Result<Stamp> {
        let meta = tokio::fs::metadata(&self.path)
            .await
            .map_err(|e| io_error(&self.path, e))?;
        Ok(Stamp::of(&meta))
    }

    async fn read(&self, stamp: Stamp) -> Result<HeaderValue> {
        let path = &self.path;
        let bytes = tokio::fs::read(path).await.map_err(|e| io_error(path, e))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            auth_error(
                format!("the token file {} is not UTF-8 text", path.display()),
                None,
            )
        })?;
        let token = text.trim();
        if token.is_empty() {
            return Err(auth_error(
                format!("the token file {} is empty", path.display()),
                None,
            ));
        }
        let value = sensitive_value(&format!("Bearer {token}")).ok_or_else(|| {
            auth_error(
                format!(
                    "the token file {} holds characters not allowed in an HTTP header",
                    path.display()
                ),
                None,
            )
        })?;
        tracing::debug!(path = %path.display(), "read the token file");
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
            stamp,
            value: value.clone(),
            read_at: Instant::now(),
        });
        Ok(value)
    }
}

fn io_error(path: &Path, e: std::io::Error) -> crate::Error {
    auth_error(
        format!("could not read the token file {}: {e}", path.display()),
        Some(Box::new(e)),
    )
}
