//! Helpers shared by the tests of this crate.
#![allow(dead_code)]

use std::path::PathBuf;

/// `${KUBEFLOW_REFERENCE_DIR:-<workspace>/../shared/reference}`.
pub fn reference_dir() -> PathBuf {
    match std::env::var_os("KUBEFLOW_REFERENCE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"),
    }
}

/// Every YAML document of a file, as JSON values.
pub fn yaml_documents(path: &std::path::Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
        .map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}
