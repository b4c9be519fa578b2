//! A parser of the small Python expressions annotations and default values are made of:
//! names, subscripts, calls and literals.

use super::parse::{Scanner, unescape};

/// A Python expression of the kinds annotations and default values use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Py {
    /// A name, dotted names reduced to their last part (`dsl.Input` → `Input`).
    Name(String),
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// `[a, b]`.
    List(Vec<Py>),
    /// `(a, b)`.
    Tuple(Vec<Py>),
    /// `{k: v}`.
    Dict(Vec<(Py, Py)>),
    /// `a[b, c]`.
    Subscript(Box<Py>, Vec<Py>),
    /// `f(a, k=b)`.
    Call(Box<Py>, Vec<Py>, Vec<(String, Py)>),
}

impl Py {
    /// The name of a `Name`, or of the callee / subscripted value.
    pub(crate) fn head(&self) -> Option<&str> {
        match self {
            Self::Name(name) => Some(name),
            Self::Subscript(inner, _) | Self::Call(inner, _, _) => inner.head(),
            _ => None,
        }
    }

    /// The value as JSON, for defaults (numbers stay as written; the compiler converts).
    pub(crate) fn to_json(&self) -> Option<serde_json::Value> {
        use serde_json::Value;
        Some(match self {
            Self::Str(text) => Value::String(text.clone()),
            Self::Int(n) => Value::from(*n),
            Self::Float(f) => Value::from(*f),
            Self::Bool(b) => Value::Bool(*b),
            Self::None => Value::Null,
            Self::List(items) | Self::Tuple(items) => {
                Value::Array(items.iter().map(Py::to_json).collect::<Option<_>>()?)
            }
            Self::Dict(entries) => {
                let mut map = serde_json::Map::new();
                for (key, value) in entries {
                    let Self::Str(key) = key else { return None };
                    map.insert(key.clone(), value.to_json()?);
                }
                Value::Object(map)
            }
            Self::Name(_) | Self::Subscript(..) | Self::Call(..) => return None,
        })
    }
}

/// Parses an annotation or default value.
pub(crate) fn expression(text: &str) -> Result<Py, String> {
    let mut parser = Parser {
        scanner: Scanner::new(text),
    };
    let value = parser.expr()?;
    parser.scanner.skip_space();
    if !parser.scanner.rest().is_empty() {
        return Err(format!(
            "unexpected {:?} in {text:?}",
            parser.scanner.rest()
        ));
    }
    Ok(value)
}

struct Parser<'a> {
    scanner: Scanner<'a>,
}

impl Parser<'_> {
    fn eat(&mut self, c: char) -> bool {
        self.scanner.skip_space();
        if self.scanner.peek() == Some(c) {
            self.scanner.bump();
            true
        } else {
            false
        }
    }

    /// Items up to `close`, separated by commas; `(items, trailing comma seen)`.
    fn items(&mut self, close: char) -> Result<(Vec<Py>, bool), String> {
        let mut items = Vec::new();
        let mut trailing = false;
        loop {
            if self.eat(close) {
                return Ok((items, trailing));
            }
            items.push(self.expr()?);
            trailing = self.eat(',');
            if !trailing {
                if self.eat(close) {
                    return Ok((items, false));
                }
                return Err(format!("expected `,` or `{close}`"));
            }
        }
    }

    fn expr(&mut self) -> Result<Py, String> {
        self.scanner.skip_space();
        if let Some((body, raw)) = self.scanner.skip_string()? {
            let mut text = if raw {
                body.to_owned()
            } else {
                unescape(body)?
            };
            // Adjacent literals concatenate.
            loop {
                self.scanner.skip_space();
                match self.scanner.skip_string()? {
                    Some((body, raw)) => text.push_str(&if raw {
                        body.to_owned()
                    } else {
                        unescape(body)?
                    }),
                    None => break,
                }
            }
            return Ok(Py::Str(text));
        }
        let Some(c) = self.scanner.peek() else {
            return Err("expected an expression".into());
        };
        let mut value = match c {
            '[' => {
                self.scanner.bump();
                Py::List(self.items(']')?.0)
            }
            '(' => {
                self.scanner.bump();
                let (items, trailing) = self.items(')')?;
                if items.len() == 1 && !trailing {
                    items.into_iter().next().unwrap_or(Py::None)
                } else {
                    Py::Tuple(items)
                }
            }
            '{' => {
                self.scanner.bump();
                let mut entries = Vec::new();
                loop {
                    if self.eat('}') {
                        break;
                    }
                    let key = self.expr()?;
                    if !self.eat(':') {
                        return Err("expected `:` in a dict".into());
                    }
                    let value = self.expr()?;
                    entries.push((key, value));
                    if !self.eat(',') {
                        if self.eat('}') {
                            break;
                        }
                        return Err("expected `,` or `}` in a dict".into());
                    }
                }
                Py::Dict(entries)
            }
            '-' | '+' | '0'..='9' | '.' => self.number()?,
            c if c.is_alphabetic() || c == '_' => {
                let start = self.scanner.pos;
                while self
                    .scanner
                    .peek()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                {
                    self.scanner.bump();
                }
                let dotted = &self.scanner.text[start..self.scanner.pos];
                match dotted {
                    "True" => Py::Bool(true),
                    "False" => Py::Bool(false),
                    "None" => Py::None,
                    _ => Py::Name(dotted.rsplit('.').next().unwrap_or(dotted).to_owned()),
                }
            }
            other => return Err(format!("unexpected {other:?}")),
        };
        loop {
            self.scanner.skip_space();
            match self.scanner.peek() {
                Some('[') => {
                    self.scanner.bump();
                    let (items, _) = self.items(']')?;
                    let items = match <[Py; 1]>::try_from(items) {
                        Ok([Py::Tuple(inner)]) => inner,
                        Ok([one]) => vec![one],
                        Err(items) => items,
                    };
                    value = Py::Subscript(Box::new(value), items);
                }
                Some('(') => {
                    self.scanner.bump();
                    let mut args = Vec::new();
                    let mut kwargs = Vec::new();
                    loop {
                        if self.eat(')') {
                            break;
                        }
                        self.scanner.skip_space();
                        let checkpoint = self.scanner.pos;
                        let keyword = self.keyword();
                        match keyword {
                            Some(key) => kwargs.push((key, self.expr()?)),
                            None => {
                                self.scanner.pos = checkpoint;
                                args.push(self.expr()?);
                            }
                        }
                        if !self.eat(',') {
                            if self.eat(')') {
                                break;
                            }
                            return Err("expected `,` or `)` in a call".into());
                        }
                    }
                    value = Py::Call(Box::new(value), args, kwargs);
                }
                _ => return Ok(value),
            }
        }
    }

    /// `name=` (not `==`) at the current position: the name, the position after `=`.
    fn keyword(&mut self) -> Option<String> {
        let rest = self.scanner.rest();
        let name_len = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(rest.len(), |(i, _)| i);
        if name_len == 0 {
            return None;
        }
        let after = rest[name_len..].trim_start();
        if after.starts_with('=') && !after.starts_with("==") {
            let name = rest[..name_len].to_owned();
            let skipped = rest.len() - after.len() + 1;
            self.scanner.pos += skipped;
            Some(name)
        } else {
            None
        }
    }

    fn number(&mut self) -> Result<Py, String> {
        let start = self.scanner.pos;
        if matches!(self.scanner.peek(), Some('-' | '+')) {
            self.scanner.bump();
            self.scanner.skip_space();
        }
        let digits_start = self.scanner.pos;
        while self.scanner.peek().is_some_and(|c| {
            c.is_ascii_alphanumeric() || c == '.' || c == '_' || {
                // an exponent sign
                let before = self.scanner.text[..self.scanner.pos].chars().last();
                (c == '-' || c == '+') && matches!(before, Some('e' | 'E'))
            }
        }) {
            self.scanner.bump();
        }
        let sign = if self.scanner.text[start..digits_start].starts_with('-') {
            "-"
        } else {
            ""
        };
        let digits = self.scanner.text[digits_start..self.scanner.pos].replace('_', "");
        let text = format!("{sign}{digits}");
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Py::Int(n));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Py::Float(f)),
            _ => Err(format!("cannot read the number {text:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_annotations_and_literals() {
        assert_eq!(
            expression("dsl.Input[List[Dataset]]").unwrap(),
            Py::Subscript(
                Box::new(Py::Name("Input".into())),
                vec![Py::Subscript(
                    Box::new(Py::Name("List".into())),
                    vec![Py::Name("Dataset".into())]
                )]
            )
        );
        assert_eq!(expression("-1.5e-3").unwrap(), Py::Float(-1.5e-3));
        assert_eq!(expression("-2").unwrap(), Py::Int(-2));
        assert_eq!(
            expression("NamedTuple('O', a=int)").unwrap(),
            Py::Call(
                Box::new(Py::Name("NamedTuple".into())),
                vec![Py::Str("O".into())],
                vec![("a".into(), Py::Name("int".into()))]
            )
        );
        assert_eq!(
            expression("[1, 'a\\n\\x41\\u00e9', None, (True,)]")
                .unwrap()
                .to_json(),
            Some(serde_json::json!([1, "a\nA\u{e9}", null, [true]]))
        );
        assert!(expression("[1, 2").is_err());
        assert!(expression("f(x) y").is_err());
    }
}
