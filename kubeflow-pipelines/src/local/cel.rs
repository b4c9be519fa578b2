//! The subset of CEL that compiled pipelines use: trigger conditions
//! (`int(inputs.parameter_values['pipelinechannel--x']) > 5 && !(... == 'heads')`) and parameter
//! expression selectors (`parseJson(string_value)["a"]`).
//!
//! Literals (strings, integers, doubles, booleans, null, lists), `inputs.parameter_values[...]`,
//! member and index access, `! - * / % + - < <= > >= == != in && ||`, parentheses, and the
//! functions `int`, `double`, `string`, `bool`, `size` and `parseJson`. Integers and doubles
//! compare by value, as KFP's backend does after converting parameter values.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

/// Evaluates `expr` with the top-level names in `env`.
pub(crate) fn eval(expr: &str, env: &Map<String, Value>) -> Result<Value, String> {
    let tokens = lex(expr)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        env,
        depth: 0,
    };
    let value = parser.or()?;
    if parser.pos != tokens.len() {
        return Err(format!(
            "unexpected `{}` at offset {}",
            tokens[parser.pos].text, tokens[parser.pos].offset
        ));
    }
    Ok(value)
}

/// Evaluates a condition: it must give a boolean.
pub(crate) fn eval_bool(expr: &str, env: &Map<String, Value>) -> Result<bool, String> {
    match eval(expr, env)? {
        Value::Bool(b) => Ok(b),
        other => Err(format!("gives {other}, not a boolean")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Int(i64),
    Double(f64),
    Ident(String),
    Op(&'static str),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    text: String,
    offset: usize,
}

const OPS: [&str; 20] = [
    "&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", "[", "]", ".", ",", "+", "-", "*",
    "/", "%",
];

fn lex(src: &str) -> Result<Vec<Token>, String> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'\'' || c == b'"' {
            let quote = c;
            let mut text = String::new();
            i += 1;
            let mut closed = false;
            while i < bytes.len() {
                let rest = &src[i..];
                let Some(ch) = rest.chars().next() else { break };
                if ch as u32 == u32::from(quote) {
                    closed = true;
                    i += 1;
                    break;
                }
                if ch == '\\' {
                    let Some(next) = rest[1..].chars().next() else {
                        break;
                    };
                    text.push(match next {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                    i += 1 + next.len_utf8();
                    continue;
                }
                text.push(ch);
                i += ch.len_utf8();
            }
            if !closed {
                return Err(format!("unterminated string at offset {start}"));
            }
            out.push(Token {
                tok: Tok::Str(text),
                text: src[start..i].to_owned(),
                offset: start,
            });
            continue;
        }
        if c.is_ascii_digit() {
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || bytes[i] == b'.'
                    || bytes[i] == b'e'
                    || bytes[i] == b'E'
                    || ((bytes[i] == b'-' || bytes[i] == b'+')
                        && matches!(bytes[i - 1], b'e' | b'E')))
            {
                i += 1;
            }
            let text = &src[start..i];
            let tok = if text.contains(['.', 'e', 'E']) {
                Tok::Double(
                    text.parse()
                        .map_err(|_| format!("bad number `{text}` at offset {start}"))?,
                )
            } else {
                Tok::Int(
                    text.parse()
                        .map_err(|_| format!("bad number `{text}` at offset {start}"))?,
                )
            };
            // CEL's unsigned suffix.
            if i < bytes.len() && bytes[i] == b'u' {
                i += 1;
            }
            out.push(Token {
                tok,
                text: text.to_owned(),
                offset: start,
            });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let text = &src[start..i];
            out.push(Token {
                tok: Tok::Ident(text.to_owned()),
                text: text.to_owned(),
                offset: start,
            });
            continue;
        }
        match OPS.iter().find(|op| src[i..].starts_with(**op)) {
            Some(op) => {
                i += op.len();
                out.push(Token {
                    tok: Tok::Op(op),
                    text: (*op).to_owned(),
                    offset: start,
                });
            }
            None => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(format!("unexpected character `{ch}` at offset {start}"));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    env: &'a Map<String, Value>,
    /// Nesting depth, bounded so a hostile expression cannot overflow the stack.
    depth: usize,
}

/// The deepest nesting of parentheses, lists, calls and unary operators accepted.
const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.pos).map(|t| &t.tok) {
            Some(Tok::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.eat(op) {
            Ok(())
        } else {
            Err(match self.tokens.get(self.pos) {
                Some(t) => format!("expected `{op}` at offset {}, found `{}`", t.offset, t.text),
                None => format!("expected `{op}` at the end"),
            })
        }
    }

    fn or(&mut self) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "the expression nests deeper than {MAX_DEPTH} levels"
            ));
        }
        let result = self.or_inner();
        self.depth -= 1;
        result
    }

    fn or_inner(&mut self) -> Result<Value, String> {
        let mut left = self.and()?;
        while self.eat("||") {
            let right = self.and()?;
            left = Value::Bool(truthy(&left)? || truthy(&right)?);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Value, String> {
        let mut left = self.cmp()?;
        while self.eat("&&") {
            let right = self.cmp()?;
            left = Value::Bool(truthy(&left)? && truthy(&right)?);
        }
        Ok(left)
    }

    fn cmp(&mut self) -> Result<Value, String> {
        let left = self.add()?;
        if matches!(self.tokens.get(self.pos).map(|t| &t.tok), Some(Tok::Ident(w)) if w == "in") {
            self.pos += 1;
            let right = self.add()?;
            return Ok(Value::Bool(match &right {
                Value::Array(items) => items.iter().any(|item| equal(item, &left)),
                Value::Object(map) => left.as_str().is_some_and(|key| map.contains_key(key)),
                other => return Err(format!("`in` needs a list or map, got {other}")),
            }));
        }
        let Some(op) = self.peek_op() else {
            return Ok(left);
        };
        if !matches!(op, "==" | "!=" | "<" | "<=" | ">" | ">=") {
            return Ok(left);
        }
        self.pos += 1;
        let right = self.add()?;
        let result = match op {
            "==" => equal(&left, &right),
            "!=" => !equal(&left, &right),
            _ => {
                let ord = order(&left, &right)?;
                match op {
                    "<" => ord == Ordering::Less,
                    "<=" => ord != Ordering::Greater,
                    ">" => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                }
            }
        };
        Ok(Value::Bool(result))
    }

    fn add(&mut self) -> Result<Value, String> {
        let mut left = self.mul()?;
        loop {
            if self.eat("+") {
                let right = self.mul()?;
                left = match (&left, &right) {
                    (Value::String(a), Value::String(b)) => Value::String(format!("{a}{b}")),
                    (Value::Array(a), Value::Array(b)) => {
                        Value::Array(a.iter().chain(b).cloned().collect())
                    }
                    _ => arith(&left, &right, "+")?,
                };
            } else if self.eat("-") {
                let right = self.mul()?;
                left = arith(&left, &right, "-")?;
            } else {
                return Ok(left);
            }
        }
    }

    fn mul(&mut self) -> Result<Value, String> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek_op() {
                Some(op @ ("*" | "/" | "%")) => op,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.unary()?;
            left = arith(&left, &right, op)?;
        }
    }

    fn unary(&mut self) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "the expression nests deeper than {MAX_DEPTH} levels"
            ));
        }
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> Result<Value, String> {
        if self.eat("!") {
            let value = self.unary()?;
            return Ok(Value::Bool(!truthy(&value)?));
        }
        if self.eat("-") {
            let value = self.unary()?;
            return arith(&Value::from(0), &value, "-");
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Value, String> {
        let mut value = self.primary()?;
        loop {
            if self.eat(".") {
                let name = match self.tokens.get(self.pos).map(|t| &t.tok) {
                    Some(Tok::Ident(name)) => name.clone(),
                    _ => return Err("expected a field name after `.`".into()),
                };
                self.pos += 1;
                value = field(&value, &name)?;
            } else if self.eat("[") {
                let index = self.or()?;
                self.expect("]")?;
                value = match (&value, &index) {
                    (Value::Object(map), Value::String(key)) => map
                        .get(key)
                        .cloned()
                        .ok_or_else(|| format!("no key `{key}`"))?,
                    (Value::Array(items), Value::Number(n)) => {
                        let i = n
                            .as_u64()
                            .and_then(|i| usize::try_from(i).ok())
                            .ok_or_else(|| format!("bad list index {n}"))?;
                        items
                            .get(i)
                            .cloned()
                            .ok_or_else(|| format!("index {i} out of range"))?
                    }
                    _ => return Err(format!("cannot index {value} with {index}")),
                };
            } else {
                return Ok(value);
            }
        }
    }

    fn primary(&mut self) -> Result<Value, String> {
        let Some(token) = self.tokens.get(self.pos) else {
            return Err("unexpected end of expression".into());
        };
        self.pos += 1;
        match &token.tok {
            Tok::Str(s) => Ok(Value::String(s.clone())),
            Tok::Int(i) => Ok(Value::from(*i)),
            Tok::Double(f) => Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(|| format!("bad number {f}")),
            Tok::Op("(") => {
                let value = self.or()?;
                self.expect(")")?;
                Ok(value)
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.eat("]") {
                    loop {
                        items.push(self.or()?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",")?;
                    }
                }
                Ok(Value::Array(items))
            }
            Tok::Ident(name) => {
                if self.eat("(") {
                    let mut args = Vec::new();
                    if !self.eat(")") {
                        loop {
                            args.push(self.or()?);
                            if self.eat(")") {
                                break;
                            }
                            self.expect(",")?;
                        }
                    }
                    return call(name, args);
                }
                match name.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    _ => self
                        .env
                        .get(name)
                        .cloned()
                        .ok_or_else(|| format!("unknown name `{name}`")),
                }
            }
            Tok::Op(op) => Err(format!("unexpected `{op}` at offset {}", token.offset)),
        }
    }
}

fn field(value: &Value, name: &str) -> Result<Value, String> {
    match value {
        Value::Object(map) => map
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no field `{name}`")),
        other => Err(format!("cannot read field `{name}` of {other}")),
    }
}

fn truthy(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(format!("{other} is not a boolean")),
    }
}

fn as_f64(value: &Value) -> Option<f64> {
    value.as_f64()
}

fn equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => a.as_f64() == b.as_f64(),
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x, y))
        }
        _ => left == right,
    }
}

fn order(left: &Value, right: &Value) -> Result<Ordering, String> {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                return Ok(x.cmp(&y));
            }
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            x.partial_cmp(&y)
                .ok_or_else(|| format!("cannot compare {a} and {b}"))
        }
        (Value::String(a), Value::String(b)) => Ok(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Ok(a.cmp(b)),
        _ => Err(format!("cannot compare {left} with {right}")),
    }
}

fn arith(left: &Value, right: &Value, op: &str) -> Result<Value, String> {
    if let (Some(a), Some(b)) = (left.as_i64(), right.as_i64()) {
        let result = match op {
            "+" => a.checked_add(b),
            "-" => a.checked_sub(b),
            "*" => a.checked_mul(b),
            "/" => a.checked_div(b),
            _ => a.checked_rem(b),
        };
        return result
            .map(Value::from)
            .ok_or_else(|| format!("integer overflow or division by zero in {a} {op} {b}"));
    }
    match (as_f64(left), as_f64(right)) {
        (Some(a), Some(b)) => {
            let result = match op {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => a / b,
                _ => a % b,
            };
            Number::from_f64(result)
                .map(Value::Number)
                .ok_or_else(|| format!("{a} {op} {b} is not a number"))
        }
        _ => Err(format!("cannot apply `{op}` to {left} and {right}")),
    }
}

fn call(name: &str, args: Vec<Value>) -> Result<Value, String> {
    let [arg] = <[Value; 1]>::try_from(args)
        .map_err(|args| format!("{name}() takes one argument, got {}", args.len()))?;
    match name {
        "int" => match &arg {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Ok(Value::from(i)),
                #[allow(clippy::cast_possible_truncation)]
                None => Ok(Value::from(n.as_f64().unwrap_or_default().trunc() as i64)),
            },
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("int({s:?}): not an integer")),
            Value::Bool(b) => Ok(Value::from(i64::from(*b))),
            other => Err(format!("int({other}): not convertible")),
        },
        "double" => match &arg {
            Value::Number(n) => Number::from_f64(n.as_f64().unwrap_or_default())
                .map(Value::Number)
                .ok_or_else(|| format!("double({n})")),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("double({s:?}): not a number")),
            other => Err(format!("double({other}): not convertible")),
        },
        "string" => Ok(Value::String(super::value::render(&arg))),
        "bool" => match &arg {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) => match s.as_str() {
                "true" | "True" | "TRUE" | "t" | "1" => Ok(Value::Bool(true)),
                "false" | "False" | "FALSE" | "f" | "0" => Ok(Value::Bool(false)),
                _ => Err(format!("bool({s:?}): not a boolean")),
            },
            other => Err(format!("bool({other}): not convertible")),
        },
        "size" => match &arg {
            Value::String(s) => Ok(Value::from(s.chars().count())),
            Value::Array(items) => Ok(Value::from(items.len())),
            Value::Object(map) => Ok(Value::from(map.len())),
            other => Err(format!("size({other}): no size")),
        },
        "parseJson" => match arg {
            Value::String(s) => {
                serde_json::from_str(&s).map_err(|err| format!("parseJson: not JSON ({err})"))
            }
            other => Ok(other),
        },
        other => Err(format!("unknown function `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(params: Value) -> Map<String, Value> {
        let mut env = Map::new();
        env.insert("inputs".into(), json!({ "parameter_values": params }));
        env
    }

    #[test]
    fn conditions_the_compiler_writes() {
        let e = env(
            json!({"pipelinechannel--flip-Output": "heads", "pipelinechannel--n": 7,
                           "pipelinechannel--x": 0.5, "pipelinechannel--b": true}),
        );
        let t = |s: &str| eval_bool(s, &e).unwrap();
        assert!(t(
            "inputs.parameter_values['pipelinechannel--flip-Output'] == 'heads'"
        ));
        assert!(!t(
            "!(inputs.parameter_values['pipelinechannel--flip-Output'] == 'heads')"
        ));
        assert!(t("int(inputs.parameter_values['pipelinechannel--n']) > 5"));
        assert!(t(
            "int(inputs.parameter_values['pipelinechannel--n']) == 7 && \
                   !(inputs.parameter_values['pipelinechannel--x'] >= 0.6)"
        ));
        assert!(t(
            "double(int(inputs.parameter_values['pipelinechannel--n'])) > 6.5"
        ));
        assert!(t("inputs.parameter_values['pipelinechannel--b'] == true"));
        assert!(t("inputs.parameter_values['pipelinechannel--n'] in [1, 7]"));
        assert!(t("1 + 2 * 3 == 7 || false"));
    }

    #[test]
    fn expression_selectors() {
        let mut e = Map::new();
        e.insert(
            "string_value".into(),
            json!("{\"A_a\": \"1\", \"n\": [1, 2]}"),
        );
        assert_eq!(eval("parseJson(string_value)[\"A_a\"]", &e), Ok(json!("1")));
        assert_eq!(eval("parseJson(string_value).n[1]", &e), Ok(json!(2)));
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = env(json!({}));
        assert!(
            eval("inputs.parameter_values['missing']", &e)
                .unwrap_err()
                .contains("missing")
        );
        assert!(eval("1 +", &e).unwrap_err().contains("end"));
        assert!(eval("'abc", &e).unwrap_err().contains("unterminated"));
        assert!(eval("1 ) 2", &e).unwrap_err().contains("offset 2"));
        assert!(eval_bool("1", &e).unwrap_err().contains("not a boolean"));
        assert!(eval("'a' < 1", &e).unwrap_err().contains("compare"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let e = env(json!({}));
        let deep = format!("{}true{}", "(".repeat(5000), ")".repeat(5000));
        assert!(eval(&deep, &e).unwrap_err().contains("nests deeper"));
        let nots = format!("{}true", "!".repeat(5000));
        assert!(eval(&nots, &e).unwrap_err().contains("nests deeper"));
        let minus = format!("{}1", "-".repeat(5000));
        assert!(eval(&minus, &e).unwrap_err().contains("nests deeper"));
        let lists = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        assert!(eval(&lists, &e).unwrap_err().contains("nests deeper"));
        let ok = format!("{}true{}", "(".repeat(20), ")".repeat(20));
        assert_eq!(eval(&ok, &e), Ok(Value::Bool(true)));
    }
}
