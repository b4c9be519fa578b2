//! Deserialisation of the IR structs: known keys into typed fields, every other key kept in
//! `other`. Hand-written visitors (instead of `#[serde(flatten)]`) so that errors carry the full
//! path of the bad value (flatten buffers the input and loses it).

/// Implements `Deserialize` for an IR struct that derives `Default` and has an
/// `other: Extra` field: `deserialize_with_other!(Type { field: "jsonKey", ... });`.
macro_rules! deserialize_with_other {
    ($ty:ident { $($field:ident : $key:literal),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> serde::de::Visitor<'de> for Fields {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("an object (", stringify!($ty), ")"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$ty, A::Error> {
                        let mut out = <$ty>::default();
                        while let Some(key) = map.next_key::<String>()? {
                            match key.as_str() {
                                $( $key => out.$field = map.next_value()?, )*
                                _ => {
                                    let value: serde_json::Value = map.next_value()?;
                                    out.other.insert(key, value);
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                deserializer.deserialize_map(Fields)
            }
        }
    };
}

pub(crate) use deserialize_with_other;
