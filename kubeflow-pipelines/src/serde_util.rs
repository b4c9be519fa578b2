//! How KFP's JSON is encoded (grpc-gateway's protojson with `UseProtoNames`):
//! int64 as strings (numbers accepted), RFC 3339 timestamps where the Unix epoch means "not
//! set", and enums as string names (numbers accepted) with a fallback for names we do not know.

/// `Option<DateTime<Utc>>` as an RFC 3339 string; `1970-01-01T00:00:00Z` (what the server sends
/// for a run that has not finished) and empty strings read as `None`.
pub(crate) mod timestamp {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        if text.is_empty() {
            return Ok(None);
        }
        let t = DateTime::parse_from_rfc3339(&text)
            .map_err(|e| D::Error::custom(format!("`{text}` is not an RFC 3339 timestamp: {e}")))?
            .with_timezone(&Utc);
        Ok(if t.timestamp() == 0 && t.timestamp_subsec_nanos() == 0 {
            None
        } else {
            Some(t)
        })
    }
}

/// `Option<i64>` written as a JSON string (protojson int64); strings and numbers are read.
pub(crate) mod int64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(n) => s.serialize_str(&n.to_string()),
            None => s.serialize_none(),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    pub(crate) enum StrOrNum {
        Num(i64),
        Float(f64),
        Str(String),
    }

    impl StrOrNum {
        pub(crate) fn into_i64<E: serde::de::Error>(self) -> Result<Option<i64>, E> {
            match self {
                StrOrNum::Num(n) => Ok(Some(n)),
                StrOrNum::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
                StrOrNum::Float(f) => Err(E::custom(format!("{f} is not an integer"))),
                StrOrNum::Str(s) if s.is_empty() => Ok(None),
                StrOrNum::Str(s) => s
                    .parse()
                    .map(Some)
                    .map_err(|_| E::custom(format!("`{s}` is not a 64-bit integer"))),
            }
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<StrOrNum>::deserialize(d)? {
            Some(v) => v.into_i64(),
            None => Ok(None),
        }
    }

    /// `Vec<i64>` written as strings; strings and numbers are read.
    pub(crate) mod vec {
        use super::StrOrNum;
        use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};

        pub(crate) fn serialize<S: Serializer>(value: &[i64], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(value.len()))?;
            for n in value {
                seq.serialize_element(&n.to_string())?;
            }
            seq.end()
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
            let items = Option::<Vec<StrOrNum>>::deserialize(d)?.unwrap_or_default();
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(n) = item.into_i64()? {
                    out.push(n);
                }
            }
            Ok(out)
        }
    }
}

/// Reads `null` as the type's default (protojson may send `null` for an empty message).
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Defines a KFP enum: string names on the wire (numbers accepted on input), an `Unknown`
/// variant keeping any name this SDK does not know, `as_str`, `Display` and `FromStr`.
macro_rules! kfp_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($wire:literal, $num:literal), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the SDK does not know (sent by a newer server), kept as is.
            Unknown(String),
        }

        impl $name {
            /// The name the server uses.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Unknown(s) => s,
                }
            }

            fn from_number(n: i64) -> Self {
                match n {
                    $( $num => $name::$variant, )*
                    other => $name::Unknown(other.to_string()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            /// Never fails: a name this SDK does not know becomes `Unknown`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $( $wire => $name::$variant, )*
                    other => $name::Unknown(other.to_owned()),
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Num(i64),
                    Str(String),
                }
                Ok(match Raw::deserialize(d)? {
                    Raw::Num(n) => $name::from_number(n),
                    Raw::Str(s) => match s.parse() {
                        Ok(v) => v,
                        Err(never) => match never {},
                    },
                })
            }
        }
    };
}
pub(crate) use kfp_enum;

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(
            default,
            with = "super::timestamp",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<DateTime<Utc>>,
        #[serde(
            default,
            with = "super::int64",
            skip_serializing_if = "Option::is_none"
        )]
        n: Option<i64>,
        #[serde(default, with = "super::int64::vec")]
        ids: Vec<i64>,
    }

    #[test]
    fn epoch_is_unset_and_int64_reads_both_forms() -> Result<(), serde_json::Error> {
        let t: T = serde_json::from_str(
            r#"{"at":"1970-01-01T00:00:00Z","n":"9007199254740993","ids":["1",2]}"#,
        )?;
        assert_eq!(t.at, None);
        assert_eq!(t.n, Some(9_007_199_254_740_993));
        assert_eq!(t.ids, vec![1, 2]);
        let t: T = serde_json::from_str(r#"{"at":"2026-01-02T03:04:05.5Z","n":7}"#)?;
        assert_eq!(
            serde_json::to_string(&t)?,
            r#"{"at":"2026-01-02T03:04:05.500Z","n":"7","ids":[]}"#
        );
        let t: T = serde_json::from_str("{}")?;
        assert_eq!(serde_json::to_string(&t)?, r#"{"ids":[]}"#);
        assert!(serde_json::from_str::<T>(r#"{"n":"x"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"at":"yesterday"}"#).is_err());
        Ok(())
    }
}
