//! The local execution cache: a task whose component and inputs were already run reuses the
//! earlier outputs. The key is a SHA-256 over the component (executor, interface and platform
//! config), the input parameter values, and each input artifact's type, metadata and *content*
//! (so a re-created but identical dataset still hits). An entry whose artifacts were deleted is a
//! miss.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::record::{Values, local_path};

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// `run-id/task-path` of the task that produced the outputs.
    pub origin: String,
    pub outputs: Values,
    /// The log of the task that produced the outputs.
    #[serde(default)]
    pub log: Option<PathBuf>,
}

/// Writes `value` as JSON with object keys sorted, whatever the map's order.
fn canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            hasher.update(b"{");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                hasher.update(serde_json::to_string(key).unwrap_or_default().as_bytes());
                hasher.update(b":");
                if let Some(item) = map.get(key) {
                    canonical(item, hasher);
                }
                hasher.update(b",");
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                canonical(item, hasher);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        other => hasher.update(other.to_string().as_bytes()),
    }
}

/// The cache key of a task.
pub(crate) fn key(component: &Value, inputs: &Values) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(b"kubeflow-rs local cache v1\n");
    canonical(component, &mut hasher);
    for (name, value) in &inputs.parameters {
        hasher.update(b"\nparameter ");
        hasher.update(name.as_bytes());
        hasher.update(b"=");
        canonical(value, &mut hasher);
    }
    for (name, artifacts) in &inputs.artifacts {
        hasher.update(b"\nartifact ");
        hasher.update(name.as_bytes());
        for artifact in artifacts {
            hasher.update(b"\n type=");
            hasher.update(artifact.schema_title.as_bytes());
            hasher.update(b" metadata=");
            canonical(&Value::Object(artifact.metadata.clone()), &mut hasher);
            match local_path(&artifact.uri) {
                Some(path) if path.exists() => {
                    hasher.update(b" content=");
                    hash_tree(&path, &mut hasher)?;
                }
                _ => {
                    hasher.update(b" uri=");
                    hasher.update(artifact.uri.as_bytes());
                }
            }
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Hashes a file's bytes, or a folder's relative paths and files, in sorted order.
fn hash_tree(path: &Path, hasher: &mut Sha256) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        // A link is hashed as where it points, never followed (no cycles, no escapes).
        hasher.update(b"symlink:");
        hasher.update(std::fs::read_link(path)?.to_string_lossy().as_bytes());
        return Ok(());
    }
    if meta.is_file() {
        let mut file = std::fs::File::open(path)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for entry in entries {
        hasher.update(b"\n/");
        hasher.update(
            entry
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default()
                .as_bytes(),
        );
        hasher.update(b"\n");
        hash_tree(&entry, hasher)?;
    }
    Ok(())
}

/// The cached outputs for `key`, if any and still all present.
pub(crate) fn lookup(root: &Path, key: &str) -> Option<Entry> {
    let text = std::fs::read_to_string(root.join(format!("{key}.json"))).ok()?;
    let entry: Entry = serde_json::from_str(&text).ok()?;
    let present = entry
        .outputs
        .artifacts
        .values()
        .flatten()
        .all(|artifact| local_path(&artifact.uri).is_none_or(|path| path.exists()));
    present.then_some(entry)
}

/// Stores the outputs of a task (written to a temporary file, then renamed).
pub(crate) fn store(root: &Path, key: &str, entry: &Entry) -> std::io::Result<()> {
    std::fs::create_dir_all(root)?;
    let text = serde_json::to_vec_pretty(entry).map_err(std::io::Error::other)?;
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = root.join(format!(".{key}.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, root.join(format!("{key}.json")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::record::LocalArtifact;
    use serde_json::json;

    fn artifact(uri: &Path) -> LocalArtifact {
        LocalArtifact {
            name: "data".into(),
            uri: uri.display().to_string(),
            schema_title: "system.Dataset".into(),
            schema_version: None,
            metadata: serde_json::Map::new(),
        }
    }

    #[test]
    fn key_depends_on_component_parameters_and_artifact_content() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "1,2,3").unwrap();
        std::fs::write(&b, "1,2,3").unwrap();
        let mut inputs = Values::default();
        inputs.parameters.insert("n".into(), json!(1));
        inputs.artifacts.insert("data".into(), vec![artifact(&a)]);
        let comp = json!({"container": {"command": ["sh"]}});
        let k1 = key(&comp, &inputs).unwrap();
        // Same content at another path: same key.
        inputs.artifacts.insert("data".into(), vec![artifact(&b)]);
        assert_eq!(key(&comp, &inputs).unwrap(), k1);
        std::fs::write(&b, "1,2,4").unwrap();
        assert_ne!(key(&comp, &inputs).unwrap(), k1);
        std::fs::write(&b, "1,2,3").unwrap();
        inputs.parameters.insert("n".into(), json!(2));
        assert_ne!(key(&comp, &inputs).unwrap(), k1);
        inputs.parameters.insert("n".into(), json!(1));
        assert_ne!(
            key(&json!({"container": {"command": ["bash"]}}), &inputs).unwrap(),
            k1
        );
    }

    #[test]
    fn entries_with_missing_artifacts_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let produced = dir.path().join("model");
        std::fs::write(&produced, "m").unwrap();
        let mut outputs = Values::default();
        outputs
            .artifacts
            .insert("model".into(), vec![artifact(&produced)]);
        let entry = Entry {
            origin: "run/train".into(),
            outputs,
            log: None,
        };
        store(dir.path(), "k", &entry).unwrap();
        assert!(lookup(dir.path(), "k").is_some());
        std::fs::remove_file(&produced).unwrap();
        assert!(lookup(dir.path(), "k").is_none());
        assert!(lookup(dir.path(), "other").is_none());
    }
}
