//! Parameter values: checking them against their declared type, rendering them into command
//! lines the way `kfp.local` does (Python's `json.dumps` for non-strings), and reading output
//! parameter files the way the KFP backend does.

use serde_json::{Number, Value};

use crate::spec::{ParameterType, PrimitiveType};

/// The parameter type of a definition (the v2 `parameterType`, or the legacy `type`).
pub(crate) fn effective_type(
    parameter_type: Option<&ParameterType>,
    primitive: Option<&PrimitiveType>,
) -> Option<ParameterType> {
    if let Some(ty) = parameter_type {
        return Some(ty.clone());
    }
    match primitive? {
        PrimitiveType::Int => Some(ParameterType::NumberInteger),
        PrimitiveType::Double => Some(ParameterType::NumberDouble),
        PrimitiveType::String => Some(ParameterType::String),
        _ => None,
    }
}

/// Checks (and where harmless, converts) a value for a parameter of type `ty`: an integral
/// double for an integer, an integer for a double.
pub(crate) fn coerce(value: Value, ty: Option<&ParameterType>) -> Result<Value, String> {
    let Some(ty) = ty else {
        return Ok(value);
    };
    let ok = match (ty, &value) {
        (ParameterType::String, Value::String(_))
        | (ParameterType::Boolean, Value::Bool(_))
        | (ParameterType::List, Value::Array(_))
        | (ParameterType::Struct, Value::Object(_))
        | (ParameterType::NumberDouble, Value::Number(_)) => true,
        (ParameterType::NumberInteger, Value::Number(n)) => {
            if n.is_i64() || n.is_u64() {
                true
            } else {
                return match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                        // Written as a double by protobuf's Value: an integer in fact.
                        #[allow(clippy::cast_possible_truncation)]
                        Ok(Value::Number(Number::from(f as i64)))
                    }
                    _ => Err(format!("expected an integer, got {n}")),
                };
            }
        }
        (ParameterType::TaskFinalStatus | ParameterType::TaskConfig, Value::Object(_)) => true,
        (ParameterType::Unspecified | ParameterType::Unknown(_), _) => true,
        _ => false,
    };
    if ok {
        Ok(value)
    } else {
        Err(format!(
            "expected {}, got {}",
            describe_type(ty),
            describe_value(&value)
        ))
    }
}

fn describe_type(ty: &ParameterType) -> &'static str {
    match ty {
        ParameterType::String => "a string",
        ParameterType::NumberInteger => "an integer",
        ParameterType::NumberDouble => "a number",
        ParameterType::Boolean => "a boolean",
        ParameterType::List => "a list",
        ParameterType::Struct | ParameterType::TaskFinalStatus | ParameterType::TaskConfig => {
            "an object"
        }
        _ => "a value",
    }
}

pub(crate) fn describe_value(value: &Value) -> String {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    // A string's content is not echoed: the value may be a credential.
    if let Value::String(text) = value {
        let n = text.chars().count();
        return format!("{kind} ({n} character{})", if n == 1 { "" } else { "s" });
    }
    let mut shown = value.to_string();
    if shown.len() > 60 {
        let mut cut = 57;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown.truncate(cut);
        shown.push_str("...");
    }
    format!("{kind} ({shown})")
}

/// Reads an output parameter file: strings as written, booleans case-insensitively, everything
/// else as JSON (the KFP launcher and `kfp.local` do the same).
pub(crate) fn parse_output_file(text: &str, ty: Option<&ParameterType>) -> Result<Value, String> {
    match ty {
        Some(ParameterType::String) | None => Ok(Value::String(text.to_owned())),
        Some(ParameterType::Boolean) => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            other => Err(format!("expected true or false, got {other:?}")),
        },
        Some(other) => {
            let value: Value = serde_json::from_str(text.trim())
                .map_err(|err| format!("not JSON ({err}): {:?}", short(text)))?;
            coerce(value, Some(other))
        }
    }
}

fn short(text: &str) -> String {
    text.chars().take(80).collect()
}

/// A value as a command-line argument: strings as they are, everything else as Python's
/// `json.dumps` writes it (`true`, `1.5`, `[1, 2]`, `{"a": 1}`), which is what `kfp.local` and
/// the Python executor produce.
pub(crate) fn render(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => python_json(other),
    }
}

/// Python `json.dumps` formatting: `", "` and `": "` separators, non-ASCII escaped.
pub(crate) fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_python_json(value, &mut out);
    out
}

fn write_python_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&python_number(n)),
        Value::String(s) => write_python_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_string(key, out);
                out.push_str(": ");
                write_python_json(item, out);
            }
            out.push('}');
        }
    }
}

fn python_number(n: &Number) -> String {
    if n.is_f64() {
        match n.as_f64() {
            Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            Some(f) if f.is_finite() => {
                // Rust's shortest round-trip form, with Python's exponent style.
                let text = format!("{f:?}");
                match text.split_once('e') {
                    Some((mantissa, exp)) => {
                        let (sign, digits) = match exp.strip_prefix('-') {
                            Some(rest) => ('-', rest),
                            None => ('+', exp),
                        };
                        format!("{mantissa}e{sign}{digits:0>2}")
                    }
                    None => text,
                }
            }
            _ => n.to_string(),
        }
    } else {
        n.to_string()
    }
}

fn write_python_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_like_python_json_dumps() {
        assert_eq!(render(&json!("a b")), "a b");
        assert_eq!(render(&json!(3)), "3");
        assert_eq!(render(&json!(1.5)), "1.5");
        assert_eq!(render(&json!(2.0)), "2.0");
        assert_eq!(render(&json!(1e-7)), "1e-07");
        assert_eq!(render(&json!(true)), "true");
        assert_eq!(render(&json!([1, "x"])), "[1, \"x\"]");
        assert_eq!(
            render(&json!({"a": 1, "b": [true]})),
            "{\"a\": 1, \"b\": [true]}"
        );
        assert_eq!(render(&json!(["é"])), "[\"\\u00e9\"]");
    }

    #[test]
    fn output_files_parse_by_type() {
        assert_eq!(
            parse_output_file("7\n", Some(&ParameterType::NumberInteger)),
            Ok(json!(7))
        );
        assert_eq!(
            parse_output_file("7.0", Some(&ParameterType::NumberInteger)),
            Ok(json!(7))
        );
        assert_eq!(
            parse_output_file("True", Some(&ParameterType::Boolean)),
            Ok(json!(true))
        );
        assert_eq!(
            parse_output_file(" x \n", Some(&ParameterType::String)),
            Ok(json!(" x \n"))
        );
        assert!(
            parse_output_file("[1,", Some(&ParameterType::List))
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            parse_output_file("{}", Some(&ParameterType::List))
                .unwrap_err()
                .contains("expected a list")
        );
    }

    #[test]
    fn coerce_checks_types() {
        assert!(coerce(json!("1"), Some(&ParameterType::NumberInteger)).is_err());
        assert_eq!(
            coerce(json!(1.0), Some(&ParameterType::NumberInteger)),
            Ok(json!(1))
        );
        assert!(coerce(json!(1.5), Some(&ParameterType::NumberInteger)).is_err());
        assert_eq!(
            coerce(json!(1), Some(&ParameterType::NumberDouble)),
            Ok(json!(1))
        );
    }
}
