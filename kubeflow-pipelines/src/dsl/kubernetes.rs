//! Kubernetes platform configuration of tasks (the kfp-kubernetes extension): secrets and
//! config maps as environment variables or volumes, PVC mounts (and the `CreatePVC` /
//! `DeletePVC` components), empty dirs, ephemeral volumes, node selectors, node affinity,
//! tolerations, security context, image pull secrets, pod labels and annotations, timeouts and
//! field paths.

use super::component::{ContainerComponent, IoKind};
use super::pipeline::{Source, Task};
use crate::spec::ParameterType;

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
    NodeAffinity(NodeAffinity),
    NodeAffinityJson(Source),
    NodeSelectorJson(Source),
    TolerationJson(Source),
    EmptyDir(EmptyDir),
    EphemeralVolume(EphemeralVolume),
    SecurityContext(SecurityContext),
}

/// An `emptyDir` volume mounted in the task's container (`kubernetes.empty_dir_mount`).
#[derive(Debug, Clone, PartialEq)]
pub struct EmptyDir {
    pub(crate) volume_name: String,
    pub(crate) mount_path: String,
    pub(crate) medium: Option<String>,
    pub(crate) size_limit: Option<String>,
}

impl EmptyDir {
    /// Volume `volume_name` mounted at `mount_path`.
    pub fn new(volume_name: impl Into<String>, mount_path: impl Into<String>) -> Self {
        Self {
            volume_name: volume_name.into(),
            mount_path: mount_path.into(),
            medium: None,
            size_limit: None,
        }
    }

    /// The storage medium: `Memory` or `HugePages`.
    pub fn medium(mut self, medium: impl Into<String>) -> Self {
        self.medium = Some(medium.into());
        self
    }

    /// The largest size, e.g. `1Gi`.
    pub fn size_limit(mut self, size: impl Into<String>) -> Self {
        self.size_limit = Some(size.into());
        self
    }
}

/// A generic ephemeral volume: a PVC created with the pod and deleted with it
/// (`kubernetes.add_ephemeral_volume`).
#[derive(Debug, Clone, PartialEq)]
pub struct EphemeralVolume {
    pub(crate) volume_name: String,
    pub(crate) mount_path: String,
    pub(crate) access_modes: Vec<String>,
    pub(crate) size: String,
    pub(crate) storage_class_name: Option<String>,
    pub(crate) labels: std::collections::BTreeMap<String, String>,
    pub(crate) annotations: std::collections::BTreeMap<String, String>,
}

impl EphemeralVolume {
    /// Volume `volume_name` of `size` (e.g. `1Gi`) mounted at `mount_path`, with
    /// `access_modes` such as `ReadWriteOnce`; the cluster's default storage class.
    pub fn new(
        volume_name: impl Into<String>,
        mount_path: impl Into<String>,
        access_modes: impl IntoIterator<Item = impl Into<String>>,
        size: impl Into<String>,
    ) -> Self {
        Self {
            volume_name: volume_name.into(),
            mount_path: mount_path.into(),
            access_modes: access_modes.into_iter().map(Into::into).collect(),
            size: size.into(),
            storage_class_name: None,
            labels: Default::default(),
            annotations: Default::default(),
        }
    }

    /// The storage class to provision from.
    pub fn storage_class(mut self, name: impl Into<String>) -> Self {
        self.storage_class_name = Some(name.into());
        self
    }

    /// A label of the created PVC.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// An annotation of the created PVC.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }
}

/// Identity of the task's container (`kubernetes.set_security_context`): at least one of the
/// fields, user and group ids not negative (checked when the pipeline compiles).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecurityContext {
    pub(crate) run_as_user: Option<i64>,
    pub(crate) run_as_group: Option<i64>,
    pub(crate) run_as_non_root: Option<bool>,
}

impl SecurityContext {
    /// An empty security context; set at least one field.
    pub fn new() -> Self {
        Self::default()
    }

    /// The user id the container runs as.
    pub fn run_as_user(mut self, uid: i64) -> Self {
        self.run_as_user = Some(uid);
        self
    }

    /// The group id the container runs as.
    pub fn run_as_group(mut self, gid: i64) -> Self {
        self.run_as_group = Some(gid);
        self
    }

    /// Whether the container must run as a non-root user.
    pub fn run_as_non_root(mut self, non_root: bool) -> Self {
        self.run_as_non_root = Some(non_root);
        self
    }
}

/// A node affinity term (`kubernetes.add_node_affinity`): required, or preferred with a
/// weight, matching node labels (`match_expression`) or fields (`match_field`).
///
/// ```
/// use kubeflow_pipelines::dsl::NodeAffinity;
///
/// let zones = NodeAffinity::preferred(10).match_expression("zone", "In", ["a", "b"]);
/// let not_n1 = NodeAffinity::required().match_field("metadata.name", "NotIn", ["n1"]);
/// # let _ = (zones, not_n1);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeAffinity {
    pub(crate) match_expressions: Vec<(String, String, Vec<String>)>,
    pub(crate) match_fields: Vec<(String, String, Vec<String>)>,
    pub(crate) weight: Option<i32>,
}

/// The operators a node affinity term may use.
pub(crate) const AFFINITY_OPERATORS: [&str; 6] =
    ["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"];

impl NodeAffinity {
    /// A term the node must match (`requiredDuringScheduling…`).
    pub fn required() -> Self {
        Self::default()
    }

    /// A term the scheduler prefers, with a weight from 1 to 100 (`preferredDuringScheduling…`).
    pub fn preferred(weight: i32) -> Self {
        Self {
            weight: Some(weight),
            ..Self::default()
        }
    }

    /// Matches node label `key` with `operator` (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`,
    /// `Lt`) against `values`.
    pub fn match_expression(
        mut self,
        key: impl Into<String>,
        operator: impl Into<String>,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.match_expressions.push((
            key.into(),
            operator.into(),
            values.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Matches node field `key` (e.g. `metadata.name`) with `operator` against `values`.
    pub fn match_field(
        mut self,
        key: impl Into<String>,
        operator: impl Into<String>,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.match_fields.push((
            key.into(),
            operator.into(),
            values.into_iter().map(Into::into).collect(),
        ));
        self
    }
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

    /// Mounts a PVC by name at `mount_path`, only `sub_path` of the volume
    /// (`kubernetes.mount_pvc(..., sub_path=...)`).
    pub fn mount_pvc_sub_path(
        self,
        pvc: impl Into<Source>,
        mount_path: impl Into<String>,
        sub_path: impl Into<String>,
    ) -> Self {
        let sub_path = Some(sub_path.into()).filter(|s| !s.is_empty());
        let setting = KubernetesSetting::Pvc {
            pvc: pvc.into(),
            mount_path: mount_path.into(),
            sub_path,
        };
        self.kubernetes(setting)
    }

    /// Adds a node affinity term (`kubernetes.add_node_affinity`); checked when the pipeline
    /// compiles (a key and a known operator per match, a weight from 1 to 100).
    pub fn node_affinity(self, affinity: NodeAffinity) -> Self {
        self.kubernetes(KubernetesSetting::NodeAffinity(affinity))
    }

    /// Sets the node affinity from a Kubernetes `NodeAffinity` JSON object, given as a
    /// constant or a pipeline parameter (`kubernetes.add_node_affinity_json`); replaces an
    /// earlier JSON affinity of the task.
    pub fn node_affinity_json(self, affinity: impl Into<Source>) -> Self {
        self.kubernetes(KubernetesSetting::NodeAffinityJson(affinity.into()))
    }

    /// Sets the node selector from a JSON object of labels, given as a constant or a pipeline
    /// parameter (`kubernetes.add_node_selector_json`).
    pub fn node_selector_json(self, selector: impl Into<Source>) -> Self {
        self.kubernetes(KubernetesSetting::NodeSelectorJson(selector.into()))
    }

    /// Adds tolerations from JSON (`kubernetes.add_toleration_json`): a constant object or list
    /// of objects (`key`, `operator`, `value`, `effect`, `toleration_seconds`) becomes
    /// tolerations as [`toleration`](Self::toleration) makes them; a pipeline parameter is
    /// passed as is.
    pub fn toleration_json(self, tolerations: impl Into<Source>) -> Self {
        self.kubernetes(KubernetesSetting::TolerationJson(tolerations.into()))
    }

    /// Mounts an `emptyDir` volume (`kubernetes.empty_dir_mount`).
    pub fn empty_dir(self, volume: EmptyDir) -> Self {
        self.kubernetes(KubernetesSetting::EmptyDir(volume))
    }

    /// Adds a generic ephemeral volume (`kubernetes.add_ephemeral_volume`).
    pub fn ephemeral_volume(self, volume: EphemeralVolume) -> Self {
        self.kubernetes(KubernetesSetting::EphemeralVolume(volume))
    }

    /// Sets fields of the container's security context (`kubernetes.set_security_context`);
    /// later calls override the fields they set.
    pub fn security_context(self, context: SecurityContext) -> Self {
        self.kubernetes(KubernetesSetting::SecurityContext(context))
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

impl ContainerComponent {
    /// kfp-kubernetes' `CreatePVC`: a task that creates a PersistentVolumeClaim (run by the
    /// KFP backend itself, image `argostub/createpvc`) and outputs its `name`, for
    /// [`Task::mount_pvc`] and [`delete_pvc`](Self::delete_pvc).
    ///
    /// Inputs: `access_modes` (LIST, required), `size` (required, e.g. `5Gi`), `pvc_name` or
    /// `pvc_name_suffix`, `storage_class_name` (default `""`: a statically provisioned PVC),
    /// `volume_name`, `annotations` and `data_source` (STRUCT).
    ///
    /// Unlike the official component it carries no input descriptions (those are
    /// kfp-kubernetes' docstrings).
    ///
    /// ```
    /// use kubeflow_pipelines::dsl::{ContainerComponent, Pipeline};
    /// use serde_json::json;
    ///
    /// let mut p = Pipeline::new("pvc");
    /// let pvc = p.add(
    ///     ContainerComponent::create_pvc()
    ///         .task()
    ///         .arg("pvc_name_suffix", "-data")
    ///         .arg("access_modes", json!(["ReadWriteOnce"]))
    ///         .arg("size", "5Gi"),
    /// );
    /// p.add(ContainerComponent::delete_pvc().task().arg("pvc_name", pvc.output("name")));
    /// assert!(p.compile().is_ok());
    /// ```
    pub fn create_pvc() -> Self {
        let optional = |ty: ParameterType| IoKind::Parameter {
            ty,
            default: None,
            optional: true,
        };
        let required = |ty: ParameterType| IoKind::Parameter {
            ty,
            default: None,
            optional: false,
        };
        let mut component = Self::new("CreatePVC", "argostub/createpvc");
        component.inputs = vec![
            ("access_modes".into(), required(ParameterType::List)),
            ("size".into(), required(ParameterType::String)),
            ("pvc_name".into(), optional(ParameterType::String)),
            ("pvc_name_suffix".into(), optional(ParameterType::String)),
            (
                "storage_class_name".into(),
                IoKind::Parameter {
                    ty: ParameterType::String,
                    default: Some(serde_json::Value::String(String::new())),
                    optional: true,
                },
            ),
            ("volume_name".into(), optional(ParameterType::String)),
            ("annotations".into(), optional(ParameterType::Struct)),
            ("data_source".into(), optional(ParameterType::Struct)),
        ];
        component.outputs = vec![("name".into(), required(ParameterType::String))];
        component
    }

    /// kfp-kubernetes' `DeletePVC`: a task that deletes the PersistentVolumeClaim named by
    /// its input `pvc_name` (image `argostub/deletepvc`, run by the KFP backend).
    pub fn delete_pvc() -> Self {
        Self::new("DeletePVC", "argostub/deletepvc").input("pvc_name", ParameterType::String)
    }
}
