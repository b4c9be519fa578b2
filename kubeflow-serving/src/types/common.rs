//! Types shared by the KServe resources: string enums, conditions, addresses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Fields this SDK does not model, kept so that read-modify-write loses nothing.
pub type Extra = BTreeMap<String, Value>;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* $v,)*
            /// A value this SDK does not know, as written by the server.
            Unknown(String),
        }
        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self { $($name::$v => $s,)* $name::Unknown(s) => s }
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s { $($s => $name::$v,)* other => $name::Unknown(other.to_owned()) }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::from(s.as_str()))
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// The inference protocol a model server speaks (`protocolVersion`).
    ProtocolVersion {
        /// V1 REST (`/v1/models/{m}:predict`).
        V1 = "v1",
        /// V2 / Open Inference Protocol REST.
        V2 = "v2",
        /// V1 over gRPC.
        GrpcV1 = "grpc-v1",
        /// V2 over gRPC (`inference.GRPCInferenceService`).
        GrpcV2 = "grpc-v2",
    }
);

string_enum!(
    /// How KServe deploys an InferenceService. KServe renamed `Serverless` to `Knative` and
    /// `RawDeployment` to `Standard`; both names are understood.
    DeploymentMode {
        /// Knative (old name).
        Serverless = "Serverless",
        /// Plain Deployments (old name).
        RawDeployment = "RawDeployment",
        /// Knative (new name).
        Knative = "Knative",
        /// Plain Deployments (new name).
        Standard = "Standard",
        /// ModelMesh.
        ModelMesh = "ModelMesh",
    }
);

impl DeploymentMode {
    /// True for Knative, whatever the name.
    pub fn is_knative(&self) -> bool {
        matches!(self, DeploymentMode::Serverless | DeploymentMode::Knative)
    }

    /// True for plain Deployments, whatever the name.
    pub fn is_standard(&self) -> bool {
        matches!(
            self,
            DeploymentMode::RawDeployment | DeploymentMode::Standard
        )
    }
}

/// A Knative-style condition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Condition {
    /// The condition type, e.g. `Ready`, `PredictorReady`, `IngressReady`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Error`, `Warning` or `Info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// When the status last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Condition {
    /// True when the status is `True`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// An address (`status.address`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Addressable {
    /// The URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The address's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields not modelled here (`CACerts`, `audience`…).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Finds a condition by type.
pub(crate) fn find_condition<'a>(
    conditions: &'a [Condition],
    type_: &str,
) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}
