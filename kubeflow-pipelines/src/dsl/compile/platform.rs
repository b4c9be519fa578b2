//! The kfp-kubernetes platform spec of tasks.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

use super::*;

impl Compiler<'_> {
    /// How a Kubernetes setting refers to a name given as a constant, parameter or output.
    fn platform_parameter(
        &mut self,
        t: usize,
        source: &Source,
    ) -> Result<InputParameterSpec, DslError> {
        let name = self.p.tasks[t].name.clone();
        match self.channel_of(&name, source)? {
            None => match source {
                Source::Constant(value) => Ok(InputParameterSpec::constant(value.clone())),
                _ => Ok(InputParameterSpec::default()),
            },
            Some(channel) => {
                if Self::is_artifact(&channel) {
                    return Err(DslError::TypeMismatch {
                        task: name,
                        input: "a Kubernetes setting".into(),
                        expected: "parameter STRING".into(),
                        got: "an artifact".into(),
                    });
                }
                let reference = self.thread(Consumer::Task(t), &channel)?;
                Ok(parameter_spec(reference))
            }
        }
    }

    pub(super) fn kubernetes_config(
        &mut self,
        t: usize,
    ) -> Result<Option<KubernetesExecutorConfig>, DslError> {
        let settings = self.p.tasks[t].task.kubernetes.clone();
        if settings.is_empty() {
            return Ok(None);
        }
        let mut config = KubernetesExecutorConfig::default();
        for setting in settings {
            match setting {
                KubernetesSetting::SecretAsEnv {
                    secret,
                    keys,
                    optional,
                } => {
                    let mut item = SecretAsEnv::default();
                    item.secret_name = constant_name(&secret);
                    item.secret_name_parameter = Some(self.platform_parameter(t, &secret)?);
                    item.key_to_env = keys
                        .into_iter()
                        .map(|(key, env)| {
                            let mut map = SecretKeyToEnv::default();
                            map.secret_key = Some(key);
                            map.env_var = Some(env);
                            map
                        })
                        .collect();
                    item.optional = Some(optional);
                    config.secret_as_env.push(item);
                }
                KubernetesSetting::SecretAsVolume {
                    secret,
                    mount_path,
                    optional,
                } => {
                    let mut item = SecretAsVolume::default();
                    item.secret_name = constant_name(&secret);
                    item.secret_name_parameter = Some(self.platform_parameter(t, &secret)?);
                    item.mount_path = Some(mount_path);
                    item.optional = Some(optional);
                    config.secret_as_volume.push(item);
                }
                KubernetesSetting::Pvc {
                    pvc,
                    mount_path,
                    sub_path,
                } => {
                    let mut item = PvcMount::default();
                    let parameter = self.platform_parameter(t, &pvc)?;
                    item.constant = constant_name(&pvc);
                    item.component_input_parameter = parameter.component_input_parameter.clone();
                    item.task_output_parameter = parameter.task_output_parameter.clone();
                    item.pvc_name_parameter = Some(parameter);
                    item.mount_path = Some(mount_path);
                    item.sub_path = sub_path;
                    config.pvc_mount.push(item);
                }
                KubernetesSetting::ConfigMapAsEnv {
                    config_map,
                    keys,
                    optional,
                } => {
                    let mut item = ConfigMapAsEnv::default();
                    item.config_map_name = constant_name(&config_map);
                    item.config_map_name_parameter = Some(self.platform_parameter(t, &config_map)?);
                    item.key_to_env = keys
                        .into_iter()
                        .map(|(key, env)| {
                            let mut map = ConfigMapKeyToEnv::default();
                            map.config_map_key = Some(key);
                            map.env_var = Some(env);
                            map
                        })
                        .collect();
                    item.optional = Some(optional);
                    config.config_map_as_env.push(item);
                }
                KubernetesSetting::ConfigMapAsVolume {
                    config_map,
                    mount_path,
                    optional,
                } => {
                    let mut item = ConfigMapAsVolume::default();
                    item.config_map_name = constant_name(&config_map);
                    item.config_map_name_parameter = Some(self.platform_parameter(t, &config_map)?);
                    item.mount_path = Some(mount_path);
                    item.optional = Some(optional);
                    config.config_map_as_volume.push(item);
                }
                KubernetesSetting::NodeSelector { key, value } => {
                    config
                        .node_selector
                        .get_or_insert_with(Default::default)
                        .labels
                        .insert(key, value);
                }
                KubernetesSetting::Toleration(toleration) => {
                    let mut item = crate::spec::Toleration::default();
                    item.key = toleration.key;
                    item.operator = Some(toleration.operator);
                    item.value = toleration.value;
                    item.effect = toleration.effect;
                    item.toleration_seconds =
                        toleration.seconds.map(|s| Value::String(s.to_string()));
                    config.tolerations.push(item);
                }
                KubernetesSetting::ImagePullSecret(name) => {
                    let mut item = ImagePullSecret::default();
                    item.secret_name_parameter =
                        Some(InputParameterSpec::constant(Value::String(name.clone())));
                    item.secret_name = Some(name);
                    config.image_pull_secret.push(item);
                }
                KubernetesSetting::PodLabel { key, value } => {
                    config
                        .pod_metadata
                        .get_or_insert_with(Default::default)
                        .labels
                        .insert(key, value);
                }
                KubernetesSetting::PodAnnotation { key, value } => {
                    config
                        .pod_metadata
                        .get_or_insert_with(Default::default)
                        .annotations
                        .insert(key, value);
                }
                KubernetesSetting::Timeout(seconds) => {
                    config.active_deadline_seconds = Some(Value::String(seconds.to_string()));
                }
                KubernetesSetting::FieldPathAsEnv { name, field_path } => {
                    let mut item = FieldPathAsEnv::default();
                    item.name = Some(name);
                    item.field_path = Some(field_path);
                    config.field_path_as_env.push(item);
                }
                KubernetesSetting::ImagePullPolicy(policy) => {
                    config.image_pull_policy = Some(policy);
                }
                KubernetesSetting::NodeAffinity(affinity) => {
                    let term = self.node_affinity_term(t, &affinity)?;
                    config.node_affinity.push(term);
                }
                KubernetesSetting::NodeSelectorJson(source) => {
                    let parameter = self.json_parameter(t, &source, "node selector", false)?;
                    config
                        .node_selector
                        .get_or_insert_with(Default::default)
                        .node_selector_json = Some(parameter);
                }
                KubernetesSetting::TolerationJson(source) => match &source {
                    Source::Constant(Value::Array(items)) => {
                        for item in items {
                            config.tolerations.push(self.toleration_from_json(t, item)?);
                        }
                    }
                    Source::Constant(item) => {
                        config.tolerations.push(self.toleration_from_json(t, item)?);
                    }
                    other => {
                        let mut item = crate::spec::Toleration::default();
                        item.toleration_json =
                            Some(self.json_parameter(t, other, "toleration", true)?);
                        config.tolerations.push(item);
                    }
                },
                KubernetesSetting::EmptyDir(volume) => {
                    let mut item = serde_json::Map::new();
                    item.insert("volumeName".into(), Value::from(volume.volume_name));
                    item.insert("mountPath".into(), Value::from(volume.mount_path));
                    if let Some(medium) = volume.medium {
                        item.insert("medium".into(), Value::from(medium));
                    }
                    if let Some(size) = volume.size_limit {
                        item.insert("sizeLimit".into(), Value::from(size));
                    }
                    config.empty_dir_mounts.push(item);
                }
                KubernetesSetting::EphemeralVolume(volume) => {
                    let mut item = serde_json::Map::new();
                    item.insert("volumeName".into(), Value::from(volume.volume_name));
                    item.insert("mountPath".into(), Value::from(volume.mount_path));
                    if !volume.access_modes.is_empty() {
                        item.insert("accessModes".into(), Value::from(volume.access_modes));
                    }
                    item.insert("size".into(), Value::from(volume.size));
                    match volume.storage_class_name {
                        Some(name) => item.insert("storageClassName".into(), Value::from(name)),
                        None => item.insert("defaultStorageClass".into(), Value::Bool(true)),
                    };
                    if !volume.labels.is_empty() || !volume.annotations.is_empty() {
                        let mut metadata = serde_json::Map::new();
                        for (key, map) in [
                            ("labels", volume.labels),
                            ("annotations", volume.annotations),
                        ] {
                            if !map.is_empty() {
                                metadata.insert(key.into(), serde_json::json!(map));
                            }
                        }
                        item.insert("metadata".into(), Value::Object(metadata));
                    }
                    config.generic_ephemeral_volume.push(item);
                }
                KubernetesSetting::SecurityContext(context) => {
                    let task = self.p.tasks[t].name.clone();
                    let invalid = |message: String| DslError::InvalidKubernetesSetting {
                        task: task.clone(),
                        message,
                    };
                    if context == crate::dsl::SecurityContext::default() {
                        return Err(invalid("a security context sets at least one field".into()));
                    }
                    let entry = config
                        .other
                        .entry("securityContext")
                        .or_insert_with(|| Value::Object(serde_json::Map::new()));
                    let Some(fields) = entry.as_object_mut() else {
                        return Err(invalid("securityContext is not an object".into()));
                    };
                    for (key, id) in [
                        ("runAsUser", context.run_as_user),
                        ("runAsGroup", context.run_as_group),
                    ] {
                        if let Some(id) = id {
                            if id < 0 {
                                return Err(invalid(format!("{key} must be 0 or more, got {id}")));
                            }
                            // int64 fields are strings in protobuf JSON.
                            fields.insert(key.into(), Value::from(id.to_string()));
                        }
                    }
                    if let Some(non_root) = context.run_as_non_root {
                        fields.insert("runAsNonRoot".into(), Value::Bool(non_root));
                    }
                }
                KubernetesSetting::NodeAffinityJson(source) => {
                    let name = self.p.tasks[t].name.clone();
                    let parameter = self.json_parameter(t, &source, "node affinity", false)?;
                    let value = serde_json::to_value(parameter).map_err(|err| {
                        DslError::InvalidKubernetesSetting {
                            task: name,
                            message: err.to_string(),
                        }
                    })?;
                    config
                        .node_affinity
                        .retain(|term| !term.contains_key("nodeAffinityJson"));
                    let mut term = serde_json::Map::new();
                    term.insert("nodeAffinityJson".into(), value);
                    config.node_affinity.push(term);
                }
            }
        }
        Ok(Some(config))
    }
}

impl Compiler<'_> {
    /// A JSON setting given as a constant object (`list_ok`: or list) or a channel.
    fn json_parameter(
        &mut self,
        t: usize,
        source: &Source,
        what: &str,
        list_ok: bool,
    ) -> Result<InputParameterSpec, DslError> {
        match source {
            Source::Constant(value) => {
                if !(value.is_object() || list_ok && value.is_array()) {
                    return Err(DslError::InvalidKubernetesSetting {
                        task: self.p.tasks[t].name.clone(),
                        message: format!("{what} JSON {value} is not an object"),
                    });
                }
                Ok(InputParameterSpec::constant(protobuf_value(value)))
            }
            other => self.platform_parameter(t, other),
        }
    }

    /// A toleration from a JSON object, as `add_toleration_json` reads a constant.
    fn toleration_from_json(
        &self,
        t: usize,
        value: &Value,
    ) -> Result<crate::spec::Toleration, DslError> {
        let invalid = |message: String| DslError::InvalidKubernetesSetting {
            task: self.p.tasks[t].name.clone(),
            message,
        };
        let Some(object) = value.as_object() else {
            return Err(invalid(format!("toleration JSON {value} is not an object")));
        };
        let text = |key: &str| -> Result<Option<String>, DslError> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(other) => Err(invalid(format!("toleration {key} {other} is not a string"))),
            }
        };
        let mut item = crate::spec::Toleration::default();
        item.key = text("key")?;
        item.operator = text("operator")?;
        item.value = text("value")?;
        item.effect = text("effect")?;
        item.toleration_seconds = match object.get("toleration_seconds") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.is_i64() => Some(Value::String(n.to_string())),
            Some(other) => {
                return Err(invalid(format!(
                    "toleration toleration_seconds {other} is not an integer"
                )));
            }
        };
        Ok(item)
    }

    /// A node affinity term as kfp-kubernetes writes it, after its checks.
    fn node_affinity_term(
        &self,
        t: usize,
        affinity: &crate::dsl::NodeAffinity,
    ) -> Result<serde_json::Map<String, Value>, DslError> {
        let invalid = |message: String| DslError::InvalidKubernetesSetting {
            task: self.p.tasks[t].name.clone(),
            message,
        };
        let mut term = serde_json::Map::new();
        for (field, matches) in [
            ("matchExpressions", &affinity.match_expressions),
            ("matchFields", &affinity.match_fields),
        ] {
            let mut list = Vec::new();
            for (key, operator, values) in matches {
                if key.is_empty() {
                    return Err(invalid(format!("a node affinity {field} entry has no key")));
                }
                if !crate::dsl::kubernetes::AFFINITY_OPERATORS.contains(&operator.as_str()) {
                    return Err(invalid(format!(
                        "node affinity operator {operator:?} for key {key:?}: must be one of {}",
                        crate::dsl::kubernetes::AFFINITY_OPERATORS.join(", ")
                    )));
                }
                let mut entry = serde_json::Map::new();
                entry.insert("key".into(), Value::from(key.clone()));
                entry.insert("operator".into(), Value::from(operator.clone()));
                if !values.is_empty() {
                    entry.insert("values".into(), Value::from(values.clone()));
                }
                list.push(Value::Object(entry));
            }
            if !list.is_empty() {
                term.insert(field.into(), Value::Array(list));
            }
        }
        if let Some(weight) = affinity.weight {
            if !(1..=100).contains(&weight) {
                return Err(invalid(format!(
                    "node affinity weight must be between 1 and 100, got {weight}"
                )));
            }
            // The platform spec is a protobuf Struct: numbers are doubles.
            term.insert("weight".into(), Value::from(f64::from(weight)));
        }
        Ok(term)
    }
}

/// The constant string of a source, for the deprecated name fields kfp-kubernetes still writes.
fn constant_name(source: &Source) -> Option<String> {
    match source {
        Source::Constant(Value::String(name)) => Some(name.clone()),
        _ => None,
    }
}
