//! Just enough Python to read a function definition: the source cleaned up as the SDK does
//! (`textwrap.dedent`, decorators dropped), the `def` line split into parameters with their
//! annotation and default, the return annotation and the docstring.

/// One parameter of a `def`: its name, annotation and default, as source text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawParam {
    pub(crate) name: String,
    pub(crate) annotation: Option<String>,
    pub(crate) default: Option<String>,
}

/// A function definition read from its source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FunctionDef {
    /// The source from the `def` line on, as the SDK embeds it.
    pub(crate) source: String,
    pub(crate) name: String,
    pub(crate) params: Vec<RawParam>,
    pub(crate) returns: Option<String>,
    pub(crate) docstring: Option<String>,
}

/// `textwrap.dedent`: whitespace-only lines emptied, the common leading whitespace removed.
pub(crate) fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let blank = |line: &str| line.chars().all(|c| c == ' ' || c == '\t');
    let mut margin: Option<&str> = None;
    for line in &lines {
        if blank(line) {
            continue;
        }
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        margin = Some(match margin {
            None => indent,
            Some(current) => {
                let common = current
                    .chars()
                    .zip(indent.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                &current[..common]
            }
        });
    }
    let margin = margin.unwrap_or("");
    lines
        .iter()
        .map(|line| {
            if blank(line) {
                ""
            } else {
                line.strip_prefix(margin).unwrap_or(line)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `inspect.cleandoc`: leading whitespace of the first line removed, the common indentation
/// of the others removed, blank lines at both ends dropped.
pub(crate) fn cleandoc(text: &str) -> String {
    let expanded = text.replace('\t', "        ");
    let mut lines: Vec<String> = expanded.split('\n').map(str::to_owned).collect();
    // Counted in characters, as Python does (`len(line) - len(line.lstrip())`).
    let indent = |line: &str| line.chars().take_while(|c| c.is_whitespace()).count();
    let margin = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim_start().is_empty())
        .map(|l| indent(l))
        .min();
    if let Some(first) = lines.first_mut() {
        *first = first.trim_start().to_owned();
    }
    if let Some(margin) = margin {
        for line in lines.iter_mut().skip(1) {
            let cut = margin.min(indent(line));
            *line = line.chars().skip(cut).collect();
        }
    }
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// Scans Python text, skipping strings and comments, tracking bracket depth.
pub(super) struct Scanner<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    pub(super) fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(super) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Skips a string literal starting at the current position (after any prefix letters);
    /// returns its raw body, or `None` when not at a string.
    pub(super) fn skip_string(&mut self) -> Result<Option<(&'a str, bool)>, String> {
        let rest = self.rest();
        let prefix = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>();
        let after = &rest[prefix.len()..];
        let is_prefix = prefix.len() <= 2
            && prefix
                .chars()
                .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f'));
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            return Ok(None);
        };
        if !is_prefix {
            return Ok(None);
        }
        let raw = prefix.to_ascii_lowercase().contains('r');
        let triple: String = std::iter::repeat_n(quote, 3).collect();
        let delimiter = if after.starts_with(&triple) {
            triple
        } else {
            quote.to_string()
        };
        let body_start = self.pos + prefix.len() + delimiter.len();
        let mut i = body_start;
        let bytes = self.text.as_bytes();
        while i < self.text.len() {
            if bytes[i] == b'\\' {
                i += 2;
                continue;
            }
            if bytes[i..].starts_with(delimiter.as_bytes()) {
                let body = &self.text[body_start..i];
                self.pos = i + delimiter.len();
                return Ok(Some((body, raw)));
            }
            if delimiter.len() == 1 && bytes[i] == b'\n' {
                break;
            }
            i += 1;
        }
        Err("unterminated string literal".into())
    }

    /// Advances to the first `stop` character at bracket depth 0 and returns the text
    /// skipped, or an error at the end of the text.
    fn until(&mut self, stops: &[char]) -> Result<&'a str, String> {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            if self.skip_string()?.is_some() {
                continue;
            }
            let Some(c) = self.peek() else {
                return Err(format!("expected one of {stops:?} before the end"));
            };
            if depth == 0 && stops.contains(&c) {
                return Ok(&self.text[start..self.pos]);
            }
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| format!("unbalanced {c:?}"))?
                }
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                    continue;
                }
                _ => {}
            }
            self.bump();
        }
    }

    pub(super) fn skip_space(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() || c == '\\' => {
                    self.bump();
                }
                Some('#') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                _ => return,
            }
        }
    }
}

/// Splits `text` at the `sep` characters found at bracket depth 0, outside strings.
fn split_top(text: &str, sep: char) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut scanner = Scanner::new(text);
    let mut start = 0;
    loop {
        match scanner.until(&[sep]) {
            Ok(_) => {
                parts.push(&text[start..scanner.pos]);
                scanner.bump();
                start = scanner.pos;
            }
            Err(_) => {
                parts.push(&text[start..]);
                return Ok(parts);
            }
        }
    }
}

/// The first `sep` at depth 0: the text before and after it.
fn split_once_top(text: &str, sep: char) -> Result<Option<(&str, &str)>, String> {
    let mut scanner = Scanner::new(text);
    match scanner.until(&[sep]) {
        Ok(before) => Ok(Some((before, &text[scanner.pos + sep.len_utf8()..]))),
        Err(_) => Ok(None),
    }
}

/// Reads the function definition in `source` (decorators and indentation allowed).
pub(crate) fn function_def(source: &str) -> Result<FunctionDef, String> {
    let dedented = dedent(source);
    let lines: Vec<&str> = dedented.split('\n').collect();
    let Some(first) = lines.iter().position(|l| l.starts_with("def")) else {
        return Err("the source holds no `def` line (at the left margin)".into());
    };
    // `inspect.getsource` ends with the function's last line and its newline.
    let mut kept: Vec<&str> = lines[first..].to_vec();
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    let mut code = kept.join("\n");
    code.push('\n');

    let header = code
        .strip_prefix("def")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .ok_or("the `def` line is not a function definition")?;
    let mut scanner = Scanner::new(header);
    scanner.skip_space();
    let name_start = scanner.pos;
    while scanner
        .peek()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
    {
        scanner.bump();
    }
    let name = header[name_start..scanner.pos].to_owned();
    if name.is_empty() {
        return Err("the `def` line has no function name".into());
    }
    scanner.skip_space();
    if scanner.bump() != Some('(') {
        return Err(format!("expected `(` after `def {name}`"));
    }
    let params_text = scanner.until(&[')'])?;
    scanner.bump();
    scanner.skip_space();
    let returns = if scanner.rest().starts_with("->") {
        scanner.pos += 2;
        Some(scanner.until(&[':'])?.trim().to_owned())
    } else {
        None
    };
    if scanner.bump() != Some(':') {
        return Err(format!("expected `:` at the end of `def {name}(...)`"));
    }
    scanner.skip_space();
    let docstring = match scanner.skip_string()? {
        Some((body, raw)) => Some(cleandoc(&if raw {
            body.to_owned()
        } else {
            unescape(body)?
        })),
        None => None,
    };

    let mut params = Vec::new();
    let params_text = strip_comments(params_text)?;
    for part in split_top(&params_text, ',')? {
        let part = part.trim();
        if part.is_empty() || part == "/" || part == "*" {
            continue;
        }
        if part.starts_with('*') {
            return Err(format!(
                "parameter {part}: *args and **kwargs are not supported"
            ));
        }
        let (head, default) = match split_once_top(part, '=')? {
            Some((head, default)) => (head, Some(default.trim().to_owned())),
            None => (part, None),
        };
        let (name, annotation) = match split_once_top(head, ':')? {
            Some((name, annotation)) => (name.trim(), Some(annotation.trim().to_owned())),
            None => (head.trim(), None),
        };
        params.push(RawParam {
            name: name.to_owned(),
            annotation,
            default,
        });
    }
    Ok(FunctionDef {
        source: code,
        name,
        params,
        returns,
        docstring,
    })
}

/// `text` without its comments (strings kept as written).
fn strip_comments(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut scanner = Scanner::new(text);
    loop {
        let start = scanner.pos;
        if scanner.skip_string()?.is_some() {
            out.push_str(&text[start..scanner.pos]);
            continue;
        }
        match scanner.bump() {
            None => return Ok(out),
            Some('#') => {
                while scanner.peek().is_some_and(|c| c != '\n') {
                    scanner.bump();
                }
            }
            Some(c) => out.push(c),
        }
    }
}

/// Resolves the escapes of a (non-raw) string literal body.
pub(super) fn unescape(body: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(kind @ ('x' | 'u' | 'U')) => {
                let digits = match kind {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(digits).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == digits)
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("invalid escape \\{kind}{hex}"))?;
                out.push(code);
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => return Err("a string literal ends with a backslash".into()),
        }
    }
    Ok(out)
}

/// A string as Python's `repr` writes it.
pub(crate) fn python_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_multi_line_def_with_decorators_and_a_docstring() {
        let source = "    @dsl.component(base_image='x')\n    def f(a: int,\n          b: Dict[str, int] = {'k': 1},  # note\n          c: str = 'x, y') -> NamedTuple('O', [('n', int)]):\n        \"\"\"Does f.\n\n        Args:\n            a: the a.\n        \"\"\"\n        return 1\n\n\n";
        let def = function_def(source).unwrap();
        assert_eq!(def.name, "f");
        assert!(def.source.starts_with("def f(a: int,\n"));
        assert!(def.source.ends_with("return 1\n"));
        let names: Vec<_> = def.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(def.params[1].default.as_deref(), Some("{'k': 1}"));
        assert_eq!(def.params[2].default.as_deref(), Some("'x, y'"));
        assert_eq!(
            def.returns.as_deref(),
            Some("NamedTuple('O', [('n', int)])")
        );
        assert_eq!(
            def.docstring.as_deref(),
            Some("Does f.\n\nArgs:\n    a: the a.")
        );
    }

    #[test]
    fn odd_text_gives_errors_not_panics() {
        let samples = [
            "def f(a: str = \"\\é\"):\n  pass",
            "def f(a: str = '\\",
            "def f(a: int = [1, 2",
            "def f(a: 'é\u{3000}'):\n\u{3000}\u{3000}\"\"\"é\n\u{3000}x\"\"\"",
            "def é(",
            "def",
            "def f(a: int) -> :",
            "\u{3000}def f():\n pass",
            "def f(a: int = 1e999): pass",
        ];
        for sample in samples {
            let _ = function_def(sample);
            let _ = cleandoc(sample);
            let _ = dedent(sample);
            let _ = super::super::expr::expression(sample);
        }
    }

    #[test]
    fn dedents_like_textwrap() {
        assert_eq!(dedent("  a\n    \n    b\n"), "a\n\n  b\n");
        assert_eq!(dedent("a\n  \n"), "a\n\n");
    }

    #[test]
    fn reprs_like_python() {
        assert_eq!(python_repr("kfp==2.17.3"), "'kfp==2.17.3'");
        assert_eq!(
            python_repr("t; python_version<\"3.9\""),
            "'t; python_version<\"3.9\"'"
        );
        assert_eq!(python_repr("it's"), "\"it's\"");
        assert_eq!(python_repr("a'\"b"), "'a\\'\"b'");
    }
}
