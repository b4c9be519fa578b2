//! [`NotebookBuilder`]: a notebook server the way the Jupyter web app makes one (image, server
//! kind, CPU, memory, GPUs, workspace and data volumes, shared memory, environment, scheduling,
//! PodDefaults), validated before anything is sent.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::api::core::v1::{
    Affinity, Container, EmptyDirVolumeSource, EnvVar, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSpec, Toleration, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::error::{Error, Result};
use crate::notebook::{
    HTTP_HEADERS_REQUEST_SET_ANNOTATION, HTTP_REWRITE_URI_ANNOTATION, Notebook, NotebookSpec,
    SERVER_TYPE_ANNOTATION, ServerKind, gateway_path,
};
use crate::quantity::parse_quantity;
use crate::validate;

/// Where the workspace volume is mounted: the home directory of the Kubeflow images.
pub const HOME: &str = "/home/jovyan";
/// The service account the Jupyter web app gives notebooks (it exists in every profile
/// namespace and may use Kubeflow Pipelines).
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default-editor";

/// A GPU vendor: the extended resource the notebook asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GpuVendor {
    /// `nvidia.com/gpu`.
    Nvidia,
    /// `amd.com/gpu`.
    Amd,
    /// `gpu.intel.com/i915`.
    Intel,
    /// Another extended resource (`habana.ai/gaudi`), given with
    /// [`NotebookBuilder::gpu_resource`].
    Resource(String),
}

impl GpuVendor {
    /// The resource name (`nvidia.com/gpu`, …).
    pub fn resource_name(&self) -> &str {
        match self {
            GpuVendor::Nvidia => "nvidia.com/gpu",
            GpuVendor::Amd => "amd.com/gpu",
            GpuVendor::Intel => "gpu.intel.com/i915",
            GpuVendor::Resource(r) => r,
        }
    }

    /// Parses a vendor name or its resource name (`nvidia`, `NVIDIA`, `nvidia.com/gpu`, `amd`,
    /// `amd.com/gpu`, `intel`, `gpu.intel.com/i915`). `None` for anything else.
    pub fn parse(vendor: &str) -> Option<Self> {
        match vendor.trim().to_ascii_lowercase().as_str() {
            "nvidia" | "nvidia.com/gpu" => Some(GpuVendor::Nvidia),
            "amd" | "amd.com/gpu" => Some(GpuVendor::Amd),
            "intel" | "gpu.intel.com/i915" => Some(GpuVendor::Intel),
            _ => None,
        }
    }
}

/// Access modes of a new volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AccessMode {
    /// `ReadWriteOnce` (the default).
    #[default]
    ReadWriteOnce,
    /// `ReadOnlyMany`.
    ReadOnlyMany,
    /// `ReadWriteMany`.
    ReadWriteMany,
    /// `ReadWriteOncePod`.
    ReadWriteOncePod,
}

impl AccessMode {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum VolumeKind {
    New {
        size: String,
        storage_class: Option<String>,
        access_mode: AccessMode,
    },
    Existing,
}

/// A volume of a notebook: a new PersistentVolumeClaim that
/// [`NotebooksClient::create`](crate::NotebooksClient::create) makes, or an existing one.
///
/// ```
/// use kubeflow_notebooks::NotebookVolume;
/// let workspace = NotebookVolume::new_pvc("10Gi").storage_class("standard");
/// let data = NotebookVolume::existing("datasets").mount_path("/home/jovyan/data").read_only(true);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NotebookVolume {
    kind: VolumeKind,
    claim_name: Option<String>,
    mount_path: Option<String>,
    read_only: bool,
}

impl NotebookVolume {
    /// A new PVC of `size` (`10Gi`). Its name defaults to `<notebook>-workspace` for the
    /// workspace and `<notebook>-datavol-<n>` for data volumes, as the Jupyter web app does.
    pub fn new_pvc(size: impl Into<String>) -> Self {
        NotebookVolume {
            kind: VolumeKind::New {
                size: size.into(),
                storage_class: None,
                access_mode: AccessMode::default(),
            },
            claim_name: None,
            mount_path: None,
            read_only: false,
        }
    }

    /// An existing PVC.
    pub fn existing(claim_name: impl Into<String>) -> Self {
        NotebookVolume {
            kind: VolumeKind::Existing,
            claim_name: Some(claim_name.into()),
            mount_path: None,
            read_only: false,
        }
    }

    /// The PVC's name.
    #[must_use]
    pub fn name(mut self, claim_name: impl Into<String>) -> Self {
        self.claim_name = Some(claim_name.into());
        self
    }

    /// The storage class of a new PVC (the cluster's default class when unset).
    #[must_use]
    pub fn storage_class(mut self, class: impl Into<String>) -> Self {
        if let VolumeKind::New { storage_class, .. } = &mut self.kind {
            *storage_class = Some(class.into());
        }
        self
    }

    /// The access mode of a new PVC (default `ReadWriteOnce`).
    #[must_use]
    pub fn access_mode(mut self, mode: AccessMode) -> Self {
        if let VolumeKind::New { access_mode, .. } = &mut self.kind {
            *access_mode = mode;
        }
        self
    }

    /// Where it is mounted. Defaults: `/home/jovyan` for the workspace,
    /// `/home/jovyan/<claim name>` for data volumes.
    #[must_use]
    pub fn mount_path(mut self, path: impl Into<String>) -> Self {
        self.mount_path = Some(path.into());
        self
    }

    /// Mounts it read-only.
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// True when this volume is a new PVC.
    pub fn is_new(&self) -> bool {
        matches!(self.kind, VolumeKind::New { .. })
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Gpu {
    Named(String, u32),
    Resource(String, u32),
}

/// A notebook and the volumes to create for it, as [`NotebookBuilder::build`] makes them.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NotebookRequest {
    /// The Notebook object.
    pub notebook: Notebook,
    /// The PersistentVolumeClaims to create first (new workspace and data volumes).
    pub pvcs: Vec<PersistentVolumeClaim>,
}

impl From<Notebook> for NotebookRequest {
    /// A request to create this notebook alone (no new volumes).
    fn from(notebook: Notebook) -> Self {
        NotebookRequest {
            notebook,
            pvcs: Vec::new(),
        }
    }
}

/// Builds a [`Notebook`] (and its new volumes) like the Jupyter web app's spawner, with
/// validation: [`build`](Self::build) returns [`Error::Invalid`] naming the field for a bad
/// name, an unparsable quantity, a limit below its request, an unknown GPU vendor, a relative
/// or repeated mount path, and so on.
///
/// The notebook container is named like the notebook, which the controller needs to report
/// the container's state.
///
/// ```
/// use kubeflow_notebooks::{NotebookBuilder, NotebookVolume, ServerKind};
///
/// let request = NotebookBuilder::new("my-nb", "kubeflownotebookswg/jupyter-scipy:v1.9.0")
///     .namespace("team-a")
///     .server_kind(ServerKind::Jupyter)
///     .cpu("500m").cpu_limit("1")
///     .memory("1Gi").memory_limit("2Gi")
///     .gpus("nvidia", 1)
///     .workspace(NotebookVolume::new_pvc("10Gi"))
///     .data_volume(NotebookVolume::existing("datasets").read_only(true))
///     .shm(true)
///     .env("MLFLOW_TRACKING_URI", "http://mlflow.mlflow:5000")
///     .pod_default("access-ml-pipeline")
///     .build()?;
/// assert_eq!(request.pvcs.len(), 1); // my-nb-workspace
/// # Ok::<(), kubeflow_notebooks::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct NotebookBuilder {
    name: String,
    image: String,
    namespace: Option<String>,
    kind: ServerKind,
    image_pull_policy: Option<String>,
    cpu: Option<String>,
    cpu_limit: Option<String>,
    memory: Option<String>,
    memory_limit: Option<String>,
    gpu: Option<Gpu>,
    workspace: Option<NotebookVolume>,
    data_volumes: Vec<NotebookVolume>,
    shm: bool,
    env: Vec<(String, String)>,
    tolerations: Vec<Toleration>,
    affinity: Option<Affinity>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    service_account: Option<String>,
}

impl NotebookBuilder {
    /// A notebook `name` running `image` (a JupyterLab server unless
    /// [`server_kind`](Self::server_kind) says otherwise).
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        NotebookBuilder {
            name: name.into(),
            image: image.into(),
            namespace: None,
            kind: ServerKind::Jupyter,
            image_pull_policy: None,
            cpu: None,
            cpu_limit: None,
            memory: None,
            memory_limit: None,
            gpu: None,
            workspace: None,
            data_volumes: Vec::new(),
            shm: false,
            env: Vec::new(),
            tolerations: Vec::new(),
            affinity: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            service_account: Some(DEFAULT_SERVICE_ACCOUNT.to_owned()),
        }
    }

    /// The notebook's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace (the client sets it when creating; RStudio needs it at build time).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The server kind: JupyterLab (default), VS Code or RStudio. It sets the annotations the
    /// gateway routing needs (`http-rewrite-uri: /` for VS Code and RStudio,
    /// `X-RStudio-Root-Path` for RStudio).
    pub fn server_kind(mut self, kind: ServerKind) -> Self {
        self.kind = kind;
        self
    }

    /// The image pull policy (`Always`, `IfNotPresent`, `Never`).
    pub fn image_pull_policy(mut self, policy: impl Into<String>) -> Self {
        self.image_pull_policy = Some(policy.into());
        self
    }

    /// CPU request (`500m`, `0.5`, `2`).
    pub fn cpu(mut self, cpu: impl Into<String>) -> Self {
        self.cpu = Some(cpu.into());
        self
    }

    /// CPU limit; not below the request.
    pub fn cpu_limit(mut self, cpu: impl Into<String>) -> Self {
        self.cpu_limit = Some(cpu.into());
        self
    }

    /// Memory request (`1Gi`, `512Mi`).
    pub fn memory(mut self, memory: impl Into<String>) -> Self {
        self.memory = Some(memory.into());
        self
    }

    /// Memory limit; not below the request.
    pub fn memory_limit(mut self, memory: impl Into<String>) -> Self {
        self.memory_limit = Some(memory.into());
        self
    }

    /// `count` GPUs of `vendor` (`nvidia`, `amd`, `intel` or their resource names); 0 means
    /// none. An unknown vendor makes [`build`](Self::build) fail.
    pub fn gpus(mut self, vendor: impl Into<String>, count: u32) -> Self {
        self.gpu = Some(Gpu::Named(vendor.into(), count));
        self
    }

    /// `count` units of another accelerator resource (`habana.ai/gaudi`).
    pub fn gpu_resource(mut self, resource: impl Into<String>, count: u32) -> Self {
        self.gpu = Some(Gpu::Resource(resource.into(), count));
        self
    }

    /// The workspace volume, mounted at `/home/jovyan` unless it says otherwise.
    pub fn workspace(mut self, volume: NotebookVolume) -> Self {
        self.workspace = Some(volume);
        self
    }

    /// Adds a data volume.
    pub fn data_volume(mut self, volume: NotebookVolume) -> Self {
        self.data_volumes.push(volume);
        self
    }

    /// Mounts a memory-backed `/dev/shm` (PyTorch data loaders need more than the default 64 MB).
    pub fn shm(mut self, enabled: bool) -> Self {
        self.shm = enabled;
        self
    }

    /// Sets an environment variable of the notebook container. (The controller sets
    /// `NB_PREFIX` itself.)
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Adds a toleration.
    pub fn toleration(mut self, toleration: Toleration) -> Self {
        self.tolerations.push(toleration);
        self
    }

    /// Sets the affinity.
    pub fn affinity(mut self, affinity: Affinity) -> Self {
        self.affinity = Some(affinity);
        self
    }

    /// Selects the PodDefaults labelled `label` (see [`PodDefault::label`]): the notebook gets
    /// the label `label: "true"`, which the controller copies to the pod.
    ///
    /// [`PodDefault::label`]: crate::PodDefault::label
    pub fn pod_default(mut self, label: impl Into<String>) -> Self {
        self.labels.insert(label.into(), "true".to_owned());
        self
    }

    /// Adds a label to the notebook (copied to its pod).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds an annotation to the notebook.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The pod's service account (default `default-editor`, as the Jupyter web app does;
    /// `None` for the namespace's `default`).
    pub fn service_account(mut self, name: Option<String>) -> Self {
        self.service_account = name;
        self
    }

    /// Validates everything and builds the notebook and its new PVCs.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the first invalid field.
    pub fn build(self) -> Result<NotebookRequest> {
        let name = self.name.as_str();
        validate::notebook_name(name)?;
        if let Some(ns) = &self.namespace {
            validate::dns_label("namespace", ns, 63)?;
        }
        let image = self.image.trim();
        if image.is_empty() {
            return Err(Error::invalid("image", "the image must not be empty"));
        }
        if image.chars().any(char::is_whitespace) {
            return Err(Error::invalid(
                "image",
                format!("`{image}` contains whitespace"),
            ));
        }
        if let Some(p) = &self.image_pull_policy
            && !matches!(p.as_str(), "Always" | "IfNotPresent" | "Never")
        {
            return Err(Error::invalid(
                "image_pull_policy",
                format!("`{p}` is not one of Always, IfNotPresent, Never"),
            ));
        }

        // Resources.
        let mut requests = BTreeMap::new();
        let mut limits = BTreeMap::new();
        for (field, req, lim, key) in [
            ("cpu", &self.cpu, &self.cpu_limit, "cpu"),
            ("memory", &self.memory, &self.memory_limit, "memory"),
        ] {
            let r = req
                .as_deref()
                .map(|v| positive_quantity(field, v))
                .transpose()?;
            let limit_field = format!("{field}_limit");
            let l = lim
                .as_deref()
                .map(|v| positive_quantity(&limit_field, v))
                .transpose()?;
            if let (Some(r), Some(l)) = (r, l)
                && l < r
            {
                return Err(Error::invalid(
                    limit_field,
                    format!(
                        "the limit {} is below the request {}",
                        lim.as_deref().unwrap_or_default(),
                        req.as_deref().unwrap_or_default()
                    ),
                ));
            }
            if let Some(v) = req {
                requests.insert(key.to_owned(), Quantity(v.trim().to_owned()));
            }
            if let Some(v) = lim {
                limits.insert(key.to_owned(), Quantity(v.trim().to_owned()));
            }
        }
        if let Some(gpu) = &self.gpu {
            let (resource, count) = match gpu {
                Gpu::Named(vendor, count) => {
                    let v = GpuVendor::parse(vendor).ok_or_else(|| {
                        Error::invalid(
                            "gpus.vendor",
                            format!(
                                "unknown GPU vendor `{vendor}`: expected nvidia, amd or intel (or \
                                 their resource names); use gpu_resource() for another accelerator"
                            ),
                        )
                    })?;
                    (v.resource_name().to_owned(), *count)
                }
                Gpu::Resource(r, count) => {
                    validate::resource_name("gpu_resource", r)?;
                    (r.clone(), *count)
                }
            };
            if count > 0 {
                // Extended resources go in limits; the request defaults to the limit.
                limits.insert(resource, Quantity(count.to_string()));
            }
        }

        // Environment.
        let mut env_names = BTreeSet::new();
        let mut env = Vec::new();
        for (k, v) in &self.env {
            validate::env_name(k)?;
            if !env_names.insert(k.as_str()) {
                return Err(Error::invalid(
                    format!("env.{k}"),
                    "the variable is set twice",
                ));
            }
            env.push(EnvVar {
                name: k.clone(),
                value: Some(v.clone()),
                value_from: None,
            });
        }

        // Labels and annotations.
        for k in self.labels.keys() {
            validate::qualified_name("labels", k)?;
        }
        for (k, v) in &self.labels {
            validate::label_value(k, v)?;
        }
        for k in self.annotations.keys() {
            validate::qualified_name("annotations", k)?;
        }
        let mut annotations = self.annotations.clone();
        annotations.insert(
            SERVER_TYPE_ANNOTATION.to_owned(),
            self.kind.as_str().to_owned(),
        );
        match &self.kind {
            ServerKind::VsCode => {
                annotations.insert(HTTP_REWRITE_URI_ANNOTATION.to_owned(), "/".to_owned());
            }
            ServerKind::RStudio => {
                let ns = self.namespace.as_deref().ok_or_else(|| {
                    Error::invalid(
                        "namespace",
                        "an RStudio notebook needs its namespace at build time for the \
                         X-RStudio-Root-Path header: call .namespace() (the client does this)",
                    )
                })?;
                annotations.insert(HTTP_REWRITE_URI_ANNOTATION.to_owned(), "/".to_owned());
                let headers = serde_json::json!({ "X-RStudio-Root-Path": gateway_path(ns, name) });
                annotations.insert(
                    HTTP_HEADERS_REQUEST_SET_ANNOTATION.to_owned(),
                    headers.to_string(),
                );
            }
            ServerKind::Jupyter | ServerKind::Unknown(_) => {}
        }

        // Volumes.
        let mut volumes = Vec::new();
        let mut mounts = Vec::new();
        let mut pvcs = Vec::new();
        let mut mount_paths = BTreeSet::new();
        let mut claims = BTreeSet::new();
        let all = self
            .workspace
            .iter()
            .map(|v| (true, v))
            .chain(self.data_volumes.iter().map(|v| (false, v)));
        let mut data_index = 0;
        for (is_workspace, vol) in all {
            let (field, pod_volume, default_claim) = if is_workspace {
                (
                    "workspace".to_owned(),
                    "workspace".to_owned(),
                    format!("{name}-workspace"),
                )
            } else {
                data_index += 1;
                (
                    format!("data_volumes[{}]", data_index - 1),
                    format!("datavol-{data_index}"),
                    format!("{name}-datavol-{data_index}"),
                )
            };
            let claim = vol.claim_name.clone().unwrap_or(default_claim);
            validate::dns_subdomain(&format!("{field}.name"), &claim)?;
            if !claims.insert(claim.clone()) {
                return Err(Error::invalid(
                    format!("{field}.name"),
                    format!("the volume `{claim}` is used twice"),
                ));
            }
            let mount_path = vol.mount_path.clone().unwrap_or_else(|| {
                if is_workspace {
                    HOME.to_owned()
                } else {
                    format!("{HOME}/{claim}")
                }
            });
            validate::mount_path(&format!("{field}.mount_path"), &mount_path)?;
            if !mount_paths.insert(mount_path.clone()) {
                return Err(Error::invalid(
                    format!("{field}.mount_path"),
                    format!("`{mount_path}` is already used by another volume"),
                ));
            }
            if let VolumeKind::New {
                size,
                storage_class,
                access_mode,
            } = &vol.kind
            {
                positive_quantity(&format!("{field}.size"), size)?;
                if let Some(sc) = storage_class {
                    validate::dns_subdomain(&format!("{field}.storage_class"), sc)?;
                }
                pvcs.push(PersistentVolumeClaim {
                    metadata: ObjectMeta {
                        name: Some(claim.clone()),
                        namespace: self.namespace.clone(),
                        ..ObjectMeta::default()
                    },
                    spec: Some(PersistentVolumeClaimSpec {
                        access_modes: Some(vec![access_mode.as_str().to_owned()]),
                        resources: Some(VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([(
                                "storage".to_owned(),
                                Quantity(size.trim().to_owned()),
                            )])),
                            limits: None,
                        }),
                        storage_class_name: storage_class.clone(),
                        ..PersistentVolumeClaimSpec::default()
                    }),
                    status: None,
                });
            }
            volumes.push(Volume {
                name: pod_volume.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim,
                    read_only: None,
                }),
                ..Volume::default()
            });
            mounts.push(VolumeMount {
                name: pod_volume,
                mount_path,
                read_only: vol.read_only.then_some(true),
                ..VolumeMount::default()
            });
        }
        if self.shm {
            if !mount_paths.insert("/dev/shm".to_owned()) {
                return Err(Error::invalid(
                    "shm",
                    "/dev/shm is already used by a volume",
                ));
            }
            volumes.push(Volume {
                name: "dshm".to_owned(),
                empty_dir: Some(EmptyDirVolumeSource {
                    medium: Some("Memory".to_owned()),
                    size_limit: None,
                }),
                ..Volume::default()
            });
            mounts.push(VolumeMount {
                name: "dshm".to_owned(),
                mount_path: "/dev/shm".to_owned(),
                ..VolumeMount::default()
            });
        }
        if let Some(sa) = &self.service_account {
            validate::dns_subdomain("service_account", sa)?;
        }

        let resources =
            (!requests.is_empty() || !limits.is_empty()).then(|| ResourceRequirements {
                requests: (!requests.is_empty()).then_some(requests),
                limits: (!limits.is_empty()).then_some(limits),
                ..ResourceRequirements::default()
            });
        let container = Container {
            name: name.to_owned(),
            image: Some(image.to_owned()),
            image_pull_policy: self.image_pull_policy.clone(),
            resources,
            env: (!env.is_empty()).then_some(env),
            volume_mounts: (!mounts.is_empty()).then_some(mounts),
            ..Container::default()
        };
        let pod_spec = PodSpec {
            containers: vec![container],
            volumes: (!volumes.is_empty()).then_some(volumes),
            tolerations: (!self.tolerations.is_empty()).then(|| self.tolerations.clone()),
            affinity: self.affinity.clone(),
            service_account_name: self.service_account.clone(),
            ..PodSpec::default()
        };
        let mut notebook = Notebook::new(name, NotebookSpec::new(pod_spec));
        notebook.metadata.namespace = self.namespace.clone();
        notebook.metadata.labels = (!self.labels.is_empty()).then(|| self.labels.clone());
        notebook.metadata.annotations = Some(annotations);
        Ok(NotebookRequest { notebook, pvcs })
    }
}

fn positive_quantity(field: &str, value: &str) -> Result<f64> {
    let v = parse_quantity(value.trim()).ok_or_else(|| {
        Error::invalid(
            field,
            format!(
                "`{value}` is not a Kubernetes quantity (examples: 500m, 0.5, 2, 512Mi, 1Gi, 1G)"
            ),
        )
    })?;
    if v <= 0.0 {
        return Err(Error::invalid(
            field,
            format!("`{value}` must be greater than zero"),
        ));
    }
    Ok(v)
}
