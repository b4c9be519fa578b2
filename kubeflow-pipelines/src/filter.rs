//! A typed builder for KFP's list filter (the `filter` query parameter).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::ser::SerializeMap;

/// A filter for list calls: predicates that must all hold (KFP has no OR).
///
/// It produces the JSON the server expects (`{"predicates":[{"key":…,"operation":"EQUALS",
/// "string_value":…}]}`) and is encoded so that it survives the server decoding the query
/// value twice: values with `+`, `%`, spaces or any Unicode arrive unchanged.
///
/// Keys are the server's field names: for runs `run_id, display_name, created_at,
/// finished_at, description, scheduled_at, storage_state, namespace, experiment_id, state,
/// recurring_run_id`; for pipelines `pipeline_id, display_name, created_at, description,
/// namespace` (and `tags.<key>` with EQUALS on 2.17+); for experiments `experiment_id,
/// display_name, created_at, last_run_created_at, description, namespace, storage_state`.
/// The proto has no boolean values.
///
/// ```
/// use kubeflow_pipelines::Filter;
/// let f = Filter::eq("state", "FAILED")
///     .and(Filter::gt("created_at", "2026-01-01T00:00:00Z".parse::<chrono::DateTime<chrono::Utc>>()?))
///     .and(Filter::is_in("experiment_id", ["e1", "e2"]));
/// assert_eq!(
///     f.to_json(),
///     r#"{"predicates":[{"key":"state","operation":"EQUALS","string_value":"FAILED"},{"key":"created_at","operation":"GREATER_THAN","timestamp_value":"2026-01-01T00:00:00Z"},{"key":"experiment_id","operation":"IN","string_values":{"values":["e1","e2"]}}]}"#
/// );
/// # Ok::<(), chrono::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Filter {
    predicates: Vec<Predicate>,
}

/// A comparison operator of a [`Filter`] predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Operation {
    /// `==`
    Equals,
    /// `!=`
    NotEquals,
    /// `>`
    GreaterThan,
    /// `>=`
    GreaterThanEquals,
    /// `<`
    LessThan,
    /// `<=`
    LessThanEquals,
    /// Member of a list.
    In,
    /// Contains the string.
    IsSubstring,
}

/// A single value of a predicate.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FilterValue {
    /// `string_value`
    String(String),
    /// `int_value` (int32)
    Int(i32),
    /// `long_value` (int64, sent as a string)
    Long(i64),
    /// `timestamp_value` (compared as Unix seconds by the server)
    Timestamp(DateTime<Utc>),
}

/// A list of values for [`Operation::In`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FilterValues {
    /// `string_values`
    Strings(Vec<String>),
    /// `int_values`
    Ints(Vec<i32>),
    /// `long_values`
    Longs(Vec<i64>),
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    One(FilterValue),
    Many(FilterValues),
}

/// One `key operation value` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    key: String,
    operation: Operation,
    value: Value,
}

impl Serialize for Predicate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Values<'a, T> {
            values: &'a [T],
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("key", &self.key)?;
        m.serialize_entry("operation", &self.operation)?;
        match &self.value {
            Value::One(FilterValue::String(v)) => m.serialize_entry("string_value", v)?,
            Value::One(FilterValue::Int(v)) => m.serialize_entry("int_value", v)?,
            Value::One(FilterValue::Long(v)) => m.serialize_entry("long_value", &v.to_string())?,
            Value::One(FilterValue::Timestamp(t)) => m.serialize_entry(
                "timestamp_value",
                &t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            )?,
            Value::Many(FilterValues::Strings(v)) => {
                m.serialize_entry("string_values", &Values { values: v })?;
            }
            Value::Many(FilterValues::Ints(v)) => {
                m.serialize_entry("int_values", &Values { values: v })?;
            }
            Value::Many(FilterValues::Longs(v)) => {
                let v: Vec<String> = v.iter().map(i64::to_string).collect();
                m.serialize_entry("long_values", &Values { values: &v })?;
            }
        }
        m.end()
    }
}

macro_rules! scalar_op {
    ($(#[$doc:meta])* $fn:ident, $op:ident) => {
        $(#[$doc])*
        pub fn $fn(key: impl Into<String>, value: impl Into<FilterValue>) -> Filter {
            Filter::predicate(key, Operation::$op, Value::One(value.into()))
        }
    };
}

impl Filter {
    /// An empty filter (matches everything; not sent).
    pub fn new() -> Self {
        Self::default()
    }

    fn predicate(key: impl Into<String>, operation: Operation, value: Value) -> Filter {
        Filter {
            predicates: vec![Predicate {
                key: key.into(),
                operation,
                value,
            }],
        }
    }

    scalar_op!(
        /// `key == value`.
        eq, Equals);
    scalar_op!(
        /// `key != value`.
        ne, NotEquals);
    scalar_op!(
        /// `key > value`.
        gt, GreaterThan);
    scalar_op!(
        /// `key >= value`.
        ge, GreaterThanEquals);
    scalar_op!(
        /// `key < value`.
        lt, LessThan);
    scalar_op!(
        /// `key <= value`.
        le, LessThanEquals);

    /// `key` is one of `values`.
    pub fn is_in(key: impl Into<String>, values: impl Into<FilterValues>) -> Filter {
        Filter::predicate(key, Operation::In, Value::Many(values.into()))
    }

    /// `key` contains `text`.
    pub fn substring(key: impl Into<String>, text: impl Into<String>) -> Filter {
        Filter::predicate(
            key,
            Operation::IsSubstring,
            Value::One(FilterValue::String(text.into())),
        )
    }

    /// Both this filter and `other` must hold.
    #[must_use]
    pub fn and(mut self, other: Filter) -> Filter {
        self.predicates.extend(other.predicates);
        self
    }

    /// True when there is no predicate.
    pub fn is_empty(&self) -> bool {
        self.predicates.is_empty()
    }

    /// The filter's JSON, as the server parses it.
    pub fn to_json(&self) -> String {
        // Serialising strings, numbers and vectors of them into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The value to put in the `filter` query parameter before the query string's own
    /// encoding: the JSON percent-encoded once more, because the server URL-decodes the
    /// parameter twice (grpc-gateway, then `url.QueryUnescape`).
    pub(crate) fn to_query_value(&self) -> String {
        url::form_urlencoded::byte_serialize(self.to_json().as_bytes()).collect()
    }
}

impl From<&str> for FilterValue {
    fn from(v: &str) -> Self {
        FilterValue::String(v.to_owned())
    }
}
impl From<String> for FilterValue {
    fn from(v: String) -> Self {
        FilterValue::String(v)
    }
}
impl From<&String> for FilterValue {
    fn from(v: &String) -> Self {
        FilterValue::String(v.clone())
    }
}
impl From<i32> for FilterValue {
    fn from(v: i32) -> Self {
        FilterValue::Int(v)
    }
}
impl From<i64> for FilterValue {
    fn from(v: i64) -> Self {
        FilterValue::Long(v)
    }
}
impl From<DateTime<Utc>> for FilterValue {
    fn from(v: DateTime<Utc>) -> Self {
        FilterValue::Timestamp(v)
    }
}
impl From<crate::RuntimeState> for FilterValue {
    /// The state's name (filter runs with `Filter::eq("state", RuntimeState::Failed)`).
    fn from(v: crate::RuntimeState) -> Self {
        FilterValue::String(v.as_str().to_owned())
    }
}
impl From<crate::StorageState> for FilterValue {
    /// The state's name.
    fn from(v: crate::StorageState) -> Self {
        FilterValue::String(v.as_str().to_owned())
    }
}

impl From<Vec<String>> for FilterValues {
    fn from(v: Vec<String>) -> Self {
        FilterValues::Strings(v)
    }
}
impl From<Vec<&str>> for FilterValues {
    fn from(v: Vec<&str>) -> Self {
        FilterValues::Strings(v.into_iter().map(str::to_owned).collect())
    }
}
impl<const N: usize> From<[&str; N]> for FilterValues {
    fn from(v: [&str; N]) -> Self {
        FilterValues::Strings(v.into_iter().map(str::to_owned).collect())
    }
}
impl From<&[&str]> for FilterValues {
    fn from(v: &[&str]) -> Self {
        FilterValues::Strings(v.iter().map(|s| (*s).to_owned()).collect())
    }
}
impl From<Vec<i32>> for FilterValues {
    fn from(v: Vec<i32>) -> Self {
        FilterValues::Ints(v)
    }
}
impl<const N: usize> From<[i32; N]> for FilterValues {
    fn from(v: [i32; N]) -> Self {
        FilterValues::Ints(v.to_vec())
    }
}
impl From<Vec<i64>> for FilterValues {
    fn from(v: Vec<i64>) -> Self {
        FilterValues::Longs(v)
    }
}
impl<const N: usize> From<[i64; N]> for FilterValues {
    fn from(v: [i64; N]) -> Self {
        FilterValues::Longs(v.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the server does with the query value: the HTTP layer's decoding, then
    /// `url.QueryUnescape` again (both turn `+` into a space).
    fn server_decodes(query: &str) -> String {
        let once: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let filter = once
            .iter()
            .find(|(k, _)| k == "filter")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        url::form_urlencoded::parse(format!("x={filter}").as_bytes())
            .map(|(_, v)| v.into_owned())
            .next()
            .unwrap_or_default()
    }

    #[test]
    fn survives_double_decoding() -> Result<(), serde_json::Error> {
        for tricky in ["a+b", "100%", "two words", "naïve – 日本語 🚀", "%2B&=?#"] {
            let f =
                Filter::eq("display_name", tricky).and(Filter::substring("description", tricky));
            let query =
                serde_urlencoded::to_string([("filter", f.to_query_value())]).unwrap_or_default();
            let decoded = server_decodes(&query);
            assert_eq!(decoded, f.to_json(), "{tricky}");
            let v: serde_json::Value = serde_json::from_str(&decoded)?;
            assert_eq!(v["predicates"][0]["string_value"], tricky);
        }
        Ok(())
    }

    #[test]
    fn every_value_kind() {
        let t: DateTime<Utc> = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
        let f = Filter::ne("a", 1)
            .and(Filter::ge("b", 2_i64))
            .and(Filter::lt("c", t))
            .and(Filter::le("d", "x"))
            .and(Filter::is_in("e", [1, 2]))
            .and(Filter::is_in("f", [3_i64]))
            .and(Filter::eq("state", crate::RuntimeState::Canceled));
        assert_eq!(
            f.to_json(),
            concat!(
                r#"{"predicates":[{"key":"a","operation":"NOT_EQUALS","int_value":1},"#,
                r#"{"key":"b","operation":"GREATER_THAN_EQUALS","long_value":"2"},"#,
                r#"{"key":"c","operation":"LESS_THAN","timestamp_value":"2026-01-01T00:00:00Z"},"#,
                r#"{"key":"d","operation":"LESS_THAN_EQUALS","string_value":"x"},"#,
                r#"{"key":"e","operation":"IN","int_values":{"values":[1,2]}},"#,
                r#"{"key":"f","operation":"IN","long_values":{"values":["3"]}},"#,
                r#"{"key":"state","operation":"EQUALS","string_value":"CANCELED"}]}"#
            )
        );
        assert!(Filter::new().is_empty());
    }
}
