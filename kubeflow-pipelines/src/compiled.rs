//! The pipeline spec (KFP's compiled IR), kept as JSON for now.

use std::path::Path;

use kubeflow_core::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A compiled pipeline (the IR that `kfp.compiler` writes), with its optional Kubernetes
/// platform spec.
///
/// The server sends and accepts it in two shapes: the plain IR JSON (`{"pipelineInfo": …,
/// "root": …}`), or `{"pipeline_spec": {…}, "platform_spec": {…}}` when the YAML had a second
/// `platforms:` document. Both read into this type; it is written back in the shape it
/// needs (plain when there is no platform spec).
///
/// The IR is kept as an opaque [`serde_json::Value`] (camelCase keys, as compiled).
///
/// ```
/// use kubeflow_pipelines::PipelineSpec;
/// let spec = PipelineSpec::from_yaml("pipelineInfo:\n  name: hello\nroot: {}\n")?;
/// assert_eq!(spec.name(), Some("hello"));
/// # Ok::<(), kubeflow_pipelines::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSpec {
    spec: Value,
    platform_spec: Option<Value>,
}

impl PipelineSpec {
    /// A spec from the IR JSON (no platform spec).
    pub fn new(spec: Value) -> Self {
        PipelineSpec {
            spec,
            platform_spec: None,
        }
    }

    /// Sets the Kubernetes platform spec (`{"platforms": {"kubernetes": …}}`).
    #[must_use]
    pub fn with_platform_spec(mut self, platform_spec: Value) -> Self {
        self.platform_spec = Some(platform_spec);
        self
    }

    /// Reads a compiled pipeline YAML (as `kfp.compiler` writes it): the first document is the
    /// pipeline spec, an optional second one the platform spec.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the text is not YAML, has no document, more than two
    /// documents, or a first document that is not a mapping.
    pub fn from_yaml(text: &str) -> Result<Self> {
        // YAML 1.2 booleans, as the compiler's YAML means them: a plain `y` or `on` stays a string.
        let docs: Vec<Value> =
            serde_saphyr::from_multiple_with_options(text, crate::spec::package::yaml_options())
                .map_err(|e| {
                    Error::invalid_argument("pipeline spec", format!("not valid YAML: {e}"))
                })?;
        let mut docs = docs.into_iter().filter(|d| !d.is_null());
        let spec = docs
            .next()
            .ok_or_else(|| Error::invalid_argument("pipeline spec", "the YAML has no document"))?;
        if !spec.is_object() {
            return Err(Error::invalid_argument(
                "pipeline spec",
                "the first YAML document is not a mapping",
            ));
        }
        let platform_spec = docs.next();
        if docs.next().is_some() {
            return Err(Error::invalid_argument(
                "pipeline spec",
                "the YAML has more than two documents (expected the pipeline spec and at most a platform spec)",
            ));
        }
        Ok(PipelineSpec {
            spec,
            platform_spec,
        })
    }

    /// Reads a compiled pipeline file (YAML or JSON).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, else as [`PipelineSpec::from_yaml`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            action: "reading",
            path: path.to_owned(),
            source,
        })?;
        Self::from_yaml(&text)
    }

    /// The IR JSON.
    pub fn spec(&self) -> &Value {
        &self.spec
    }

    /// The platform spec, if any.
    pub fn platform_spec(&self) -> Option<&Value> {
        self.platform_spec.as_ref()
    }

    /// `pipelineInfo.name`, if present.
    pub fn name(&self) -> Option<&str> {
        self.spec
            .pointer("/pipelineInfo/name")
            .and_then(Value::as_str)
    }

    /// The YAML text to upload (the spec, then the platform spec as a second document).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the JSON cannot be written as YAML.
    pub fn to_yaml(&self) -> Result<String> {
        let mut out = serde_saphyr::to_string(&self.spec)
            .map_err(|e| Error::invalid_argument("pipeline spec", e.to_string()))?;
        if let Some(p) = &self.platform_spec {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("---\n");
            out.push_str(
                &serde_saphyr::to_string(p)
                    .map_err(|e| Error::invalid_argument("platform spec", e.to_string()))?,
            );
        }
        Ok(out)
    }

    /// The spec as the server's JSON (plain or wrapped).
    pub fn to_value(&self) -> Value {
        match &self.platform_spec {
            None => self.spec.clone(),
            Some(p) => {
                let mut m = Map::new();
                m.insert("pipeline_spec".into(), self.spec.clone());
                m.insert("platform_spec".into(), p.clone());
                Value::Object(m)
            }
        }
    }

    /// Takes the IR JSON and the platform spec apart.
    pub fn into_parts(self) -> (Value, Option<Value>) {
        (self.spec, self.platform_spec)
    }
}

impl From<Value> for PipelineSpec {
    /// Accepts both shapes (plain IR, or wrapped with a platform spec).
    fn from(value: Value) -> Self {
        match value {
            Value::Object(mut m) if m.contains_key("pipeline_spec") => {
                let spec = m.remove("pipeline_spec").unwrap_or(Value::Null);
                let platform_spec = m.remove("platform_spec").filter(|p| !p.is_null());
                PipelineSpec {
                    spec,
                    platform_spec,
                }
            }
            other => PipelineSpec::new(other),
        }
    }
}

impl Serialize for PipelineSpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match &self.platform_spec {
            None => self.spec.serialize(s),
            Some(p) => {
                #[derive(Serialize)]
                struct Wrapped<'a> {
                    pipeline_spec: &'a Value,
                    platform_spec: &'a Value,
                }
                Wrapped {
                    pipeline_spec: &self.spec,
                    platform_spec: p,
                }
                .serialize(s)
            }
        }
    }
}

impl<'de> Deserialize<'de> for PipelineSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(Value::deserialize(d)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_shapes_round_trip() -> std::result::Result<(), serde_json::Error> {
        let plain = json!({"pipelineInfo": {"name": "p"}, "root": {}});
        let s: PipelineSpec = serde_json::from_value(plain.clone())?;
        assert_eq!(s.platform_spec(), None);
        assert_eq!(serde_json::to_value(&s)?, plain);

        let wrapped =
            json!({"pipeline_spec": plain, "platform_spec": {"platforms": {"kubernetes": {}}}});
        let s: PipelineSpec = serde_json::from_value(wrapped.clone())?;
        assert_eq!(s.name(), Some("p"));
        assert!(s.platform_spec().is_some());
        assert_eq!(serde_json::to_value(&s)?, wrapped);
        assert_eq!(s.to_value(), wrapped);
        Ok(())
    }

    #[test]
    fn yaml_with_a_platform_document() -> Result<()> {
        let s = PipelineSpec::from_yaml(
            "# PIPELINE DEFINITION\npipelineInfo:\n  name: two\nroot: {}\n---\nplatforms:\n  kubernetes: {}\n",
        )?;
        assert_eq!(s.name(), Some("two"));
        assert_eq!(
            s.platform_spec(),
            Some(&json!({"platforms": {"kubernetes": {}}}))
        );
        let again = PipelineSpec::from_yaml(&s.to_yaml()?)?;
        assert_eq!(again, s);
        assert!(PipelineSpec::from_yaml("- a\n").is_err());
        assert!(PipelineSpec::from_yaml("a: [").is_err());
        Ok(())
    }
}

#[cfg(test)]
mod yaml_boolean_tests {
    use super::PipelineSpec;

    #[test]
    fn plain_y_and_on_stay_strings() {
        let spec = PipelineSpec::from_yaml("pipelineInfo:\n  name: p\nroot:\n  inputDefinitions:\n    parameters:\n      axis:\n        defaultValue: y\n      mode:\n        defaultValue: on\n")
            .expect("valid YAML");
        let v = serde_json::to_value(&spec).expect("json");
        let text = v.to_string();
        assert!(text.contains(r#""defaultValue":"y""#), "{text}");
        assert!(text.contains(r#""defaultValue":"on""#), "{text}");
    }
}
