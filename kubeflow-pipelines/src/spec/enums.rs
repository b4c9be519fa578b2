//! String enums of the IR. Each keeps values it does not know in an `Unknown` variant, so a
//! pipeline compiled by a newer SDK still reads and writes back unchanged.

/// Declares a string enum with an `Unknown(String)` fallback and serde impls.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the SDK does not know (kept as written).
            Unknown(String),
        }

        impl $name {
            /// The value as written in the IR.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok(Self::from(text.as_str()))
            }
        }
    };
}

string_enum! {
    /// The type of a parameter (`ParameterType.ParameterTypeEnum`).
    pub enum ParameterType {
        /// `PARAMETER_TYPE_ENUM_UNSPECIFIED`.
        Unspecified => "PARAMETER_TYPE_ENUM_UNSPECIFIED",
        /// A float (`float` in Python).
        NumberDouble => "NUMBER_DOUBLE",
        /// An integer (`int` in Python); a double in JSON, keep within ±2^53.
        NumberInteger => "NUMBER_INTEGER",
        /// A string.
        String => "STRING",
        /// A boolean.
        Boolean => "BOOLEAN",
        /// A JSON list.
        List => "LIST",
        /// A JSON object.
        Struct => "STRUCT",
        /// The final status of a task (exit handlers, `dsl.PipelineTaskFinalStatus`).
        TaskFinalStatus => "TASK_FINAL_STATUS",
        /// A task configuration passed through (`dsl.TaskConfig`).
        TaskConfig => "TASK_CONFIG",
    }
}

string_enum! {
    /// The deprecated primitive type of a parameter (`PrimitiveType.PrimitiveTypeEnum`).
    pub enum PrimitiveType {
        /// `PRIMITIVE_TYPE_UNSPECIFIED`.
        Unspecified => "PRIMITIVE_TYPE_UNSPECIFIED",
        /// An integer.
        Int => "INT",
        /// A double.
        Double => "DOUBLE",
        /// A string.
        String => "STRING",
    }
}

string_enum! {
    /// When a task runs relative to its upstream tasks (`TriggerPolicy.TriggerStrategy`).
    pub enum TriggerStrategy {
        /// `TRIGGER_STRATEGY_UNSPECIFIED`.
        Unspecified => "TRIGGER_STRATEGY_UNSPECIFIED",
        /// Run only when every upstream task succeeded (the default).
        AllUpstreamTasksSucceeded => "ALL_UPSTREAM_TASKS_SUCCEEDED",
        /// Run once every upstream task completed, whatever its state (exit handlers).
        AllUpstreamTasksCompleted => "ALL_UPSTREAM_TASKS_COMPLETED",
    }
}

string_enum! {
    /// A task configuration field passed through to a component (`TaskConfigPassthroughType`).
    pub enum TaskConfigPassthroughType {
        /// `NONE`.
        None => "NONE",
        /// CPU, memory and accelerators.
        Resources => "RESOURCES",
        /// Environment variables.
        Env => "ENV",
        /// Kubernetes affinity.
        KubernetesAffinity => "KUBERNETES_AFFINITY",
        /// Kubernetes tolerations.
        KubernetesTolerations => "KUBERNETES_TOLERATIONS",
        /// Kubernetes node selector.
        KubernetesNodeSelector => "KUBERNETES_NODE_SELECTOR",
        /// Kubernetes volumes.
        KubernetesVolumes => "KUBERNETES_VOLUMES",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept() {
        let parsed: ParameterType =
            serde_json::from_str("\"NUMBER_FANCY\"").unwrap_or(ParameterType::Unspecified);
        assert_eq!(parsed, ParameterType::Unknown("NUMBER_FANCY".into()));
        assert_eq!(
            serde_json::to_string(&parsed).ok().as_deref(),
            Some("\"NUMBER_FANCY\"")
        );
        assert_eq!(ParameterType::from("STRING"), ParameterType::String);
    }
}
