//! Kubernetes platform configuration of tasks (the kfp-kubernetes extension): secrets and
//! config maps as environment variables or volumes, PVC mounts, node selectors, tolerations,
//! image pull secrets, pod labels and annotations, timeouts and field paths.

use super::pipeline::{Source, Task};

/// One kfp-kubernetes setting of a task.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KubernetesSetting {
    SecretAsEnv {
        secret: Source,
        keys: Vec<(String, String)>,
        optional: bool,
    },
    SecretAsVolume {
        secret: Source,
        mount_path: String,
        optional: bool,
    },
    Pvc {
        pvc: Source,
        mount_path: String,
        sub_path: Option<String>,
    },
    ConfigMapAsEnv {
        config_map: Source,
        keys: Vec<(String, String)>,
        optional: bool,
    },
    ConfigMapAsVolume {
        config_map: Source,
        mount_path: String,
        optional: bool,
    },
    NodeSelector {
        key: String,
        value: String,
    },
    Toleration(Toleration),
    ImagePullSecret(String),
    PodLabel {
        key: String,
        value: String,
    },
    PodAnnotation {
        key: String,
        value: String,
    },
    Timeout(i64),
    FieldPathAsEnv {
        name: String,
        field_path: String,
    },
    ImagePullPolicy(String),
}

/// A Kubernetes toleration (`kubernetes.add_toleration`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Toleration {
    pub(crate) key: Option<String>,
    pub(crate) operator: String,
    pub(crate) value: Option<String>,
    pub(crate) effect: Option<String>,
    pub(crate) seconds: Option<i64>,
}

impl Toleration {
    /// Tolerates taint `key` with any value (`operator: Exists`).
    pub fn exists(key: impl Into<String>) -> Self {
        Self {
            key: Some(key.into()),
            operator: "Exists".into(),
            ..Self::default()
        }
    }

    /// Tolerates taint `key` with value `value` (`operator: Equal`).
    pub fn equal(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: Some(key.into()),
            operator: "Equal".into(),
            value: Some(value.into()),
            ..Self::default()
        }
    }

    /// Only for taints with this effect (`NoSchedule`, `PreferNoSchedule`, `NoExecute`).
    pub fn effect(mut self, effect: impl Into<String>) -> Self {
        self.effect = Some(effect.into());
        self
    }

    /// How long the pod stays bound after a `NoExecute` taint appears.
    pub fn seconds(mut self, seconds: i64) -> Self {
        self.seconds = Some(seconds);
        self
    }
}

fn pairs<K: Into<String>, V: Into<String>>(
    items: impl IntoIterator<Item = (K, V)>,
) -> Vec<(String, String)> {
    items
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

impl Task {
    fn kubernetes(mut self, setting: KubernetesSetting) -> Self {
        self.kubernetes.push(setting);
        self
    }

    /// Sets environment variables from keys of a secret (`kubernetes.use_secret_as_env`):
    /// `keys` maps secret keys to variable names. The secret name may be a constant, a pipeline
    /// parameter or a task output.
    pub fn secret_as_env<K: Into<String>, V: Into<String>>(
        self,
        secret: impl Into<Source>,
        keys: impl IntoIterator<Item = (K, V)>,
        optional: bool,
    ) -> Self {
        let setting = KubernetesSetting::SecretAsEnv {
            secret: secret.into(),
            keys: pairs(keys),
            optional,
        };
        self.kubernetes(setting)
    }

    /// Mounts a secret as a volume (`kubernetes.use_secret_as_volume`).
    pub fn secret_as_volume(
        self,
        secret: impl Into<Source>,
        mount_path: impl Into<String>,
        optional: bool,
    ) -> Self {
        let setting = KubernetesSetting::SecretAsVolume {
            secret: secret.into(),
            mount_path: mount_path.into(),
            optional,
        };
        self.kubernetes(setting)
    }

    /// Mounts a PVC by name (`kubernetes.mount_pvc`); the name may be a constant, a pipeline
    /// parameter or a task output.
    pub fn mount_pvc(self, pvc: impl Into<Source>, mount_path: impl Into<String>) -> Self {
        let setting = KubernetesSetting::Pvc {
            pvc: pvc.into(),
            mount_path: mount_path.into(),
            sub_path: None,
        };
        self.kubernetes(setting)
    }

    /// Sets environment variables from keys of a config map (`kubernetes.use_config_map_as_env`).
    pub fn config_map_as_env<K: Into<String>, V: Into<String>>(
        self,
        config_map: impl Into<Source>,
        keys: impl IntoIterator<Item = (K, V)>,
        optional: bool,
    ) -> Self {
        let setting = KubernetesSetting::ConfigMapAsEnv {
            config_map: config_map.into(),
            keys: pairs(keys),
            optional,
        };
        self.kubernetes(setting)
    }

    /// Mounts a config map as a volume (`kubernetes.use_config_map_as_volume`).
    pub fn config_map_as_volume(
        self,
        config_map: impl Into<Source>,
        mount_path: impl Into<String>,
        optional: bool,
    ) -> Self {
        let setting = KubernetesSetting::ConfigMapAsVolume {
            config_map: config_map.into(),
            mount_path: mount_path.into(),
            optional,
        };
        self.kubernetes(setting)
    }

    /// Adds a node selector label (`kubernetes.add_node_selector`).
    pub fn node_selector(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.kubernetes(KubernetesSetting::NodeSelector {
            key: key.into(),
            value: value.into(),
        })
    }

    /// Adds a toleration (`kubernetes.add_toleration`).
    pub fn toleration(self, toleration: Toleration) -> Self {
        self.kubernetes(KubernetesSetting::Toleration(toleration))
    }

    /// Adds an image pull secret (`kubernetes.set_image_pull_secrets`).
    pub fn image_pull_secret(self, name: impl Into<String>) -> Self {
        self.kubernetes(KubernetesSetting::ImagePullSecret(name.into()))
    }

    /// Sets the image pull policy (`kubernetes.set_image_pull_policy`).
    pub fn image_pull_policy(self, policy: impl Into<String>) -> Self {
        self.kubernetes(KubernetesSetting::ImagePullPolicy(policy.into()))
    }

    /// Adds a pod label (`kubernetes.add_pod_label`).
    pub fn pod_label(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.kubernetes(KubernetesSetting::PodLabel {
            key: key.into(),
            value: value.into(),
        })
    }

    /// Adds a pod annotation (`kubernetes.add_pod_annotation`).
    pub fn pod_annotation(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.kubernetes(KubernetesSetting::PodAnnotation {
            key: key.into(),
            value: value.into(),
        })
    }

    /// Sets the pod's deadline in seconds (`kubernetes.set_timeout`).
    pub fn timeout_seconds(self, seconds: i64) -> Self {
        self.kubernetes(KubernetesSetting::Timeout(seconds))
    }

    /// Sets an environment variable from a pod field (`kubernetes.use_field_path_as_env`),
    /// e.g. `metadata.name`.
    pub fn field_path_as_env(self, name: impl Into<String>, field_path: impl Into<String>) -> Self {
        let setting = KubernetesSetting::FieldPathAsEnv {
            name: name.into(),
            field_path: field_path.into(),
        };
        self.kubernetes(setting)
    }
}
