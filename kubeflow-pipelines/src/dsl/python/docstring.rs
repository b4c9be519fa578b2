//! Descriptions of inputs and outputs from a Google-style docstring, as the SDK takes them
//! (with the `docstring_parser` package): the items of the `Args:` sections describe inputs;
//! for outputs, `Returns:` is read as one more `Args:` section.

use std::collections::BTreeMap;

use super::parse::cleandoc;

const ARG_TITLES: [&str; 4] = ["Arguments", "Args", "Parameters", "Params"];
const OTHER_TITLES: [&str; 11] = [
    "Raises",
    "Exceptions",
    "Except",
    "Attributes",
    "Example",
    "Examples",
    "Returns",
    "Yields",
    "Return",
    "Yield",
    "Raise",
];

/// `(input descriptions, output descriptions)` from a cleaned docstring.
pub(crate) fn descriptions(
    docstring: Option<&str>,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let Some(doc) = docstring else {
        return Default::default();
    };
    let inputs = arg_items(doc);
    // kfp replaces the first `Returns:` (or `Returns`, `Return:`, `Return` at a line end)
    // with `Args:` and reads every item again.
    let mut outputs = BTreeMap::new();
    for keyword in ["Returns:\n", "Returns\n", "Return:\n", "Return\n"] {
        if doc.contains(keyword) {
            let modified = doc.replace(keyword.trim(), "Args:");
            outputs = arg_items(&modified);
            break;
        }
    }
    (inputs, outputs)
}

/// The `name: description` items of the argument sections, later items winning.
fn arg_items(doc: &str) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    let lines: Vec<&str> = doc.split('\n').collect();
    let title_of = |line: &str| -> Option<&str> {
        let trimmed = line.trim_end();
        let title = trimmed.strip_suffix(':')?;
        ARG_TITLES
            .iter()
            .chain(OTHER_TITLES.iter())
            .find(|t| **t == title)
            .copied()
    };
    let mut i = 0;
    while i < lines.len() {
        let Some(title) = title_of(lines[i]) else {
            i += 1;
            continue;
        };
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && title_of(lines[end]).is_none() {
            end += 1;
        }
        if ARG_TITLES.contains(&title) {
            section_items(&lines[start..end], &mut items);
        }
        i = end;
    }
    items
}

fn section_items(lines: &[&str], items: &mut BTreeMap<String, String>) {
    let text = cleandoc(&format!("\n{}", lines.join("\n")));
    let indent_of = |line: &str| line.len() - line.trim_start().len();
    let Some(item_indent) = text
        .split('\n')
        .find(|l| !l.trim().is_empty())
        .map(indent_of)
    else {
        return;
    };
    let mut chunks: Vec<Vec<&str>> = Vec::new();
    for line in text.split('\n') {
        let starts_item = !line.trim().is_empty() && indent_of(line) == item_indent;
        match chunks.last_mut() {
            Some(chunk) if !starts_item => chunk.push(line),
            _ => chunks.push(vec![line]),
        }
    }
    for chunk in chunks {
        let text = chunk.join("\n");
        let Some((before, desc)) = text.trim().split_once(':') else {
            continue;
        };
        let name = match before.split_once('(') {
            Some((name, _)) if before.trim_end().ends_with(')') => name.trim(),
            _ => before.trim(),
        };
        let desc = desc.strip_prefix(' ').unwrap_or(desc);
        let desc = match desc.split_once('\n') {
            Some((first, rest)) => format!("{first}\n{}", cleandoc(rest)),
            None => desc.to_owned(),
        };
        items.insert(name.to_owned(), desc.trim_matches('\n').to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_args_and_returns() {
        let doc = "Does f.\n\nArgs:\n    a (int): the a.\n    b: the b,\n        on two lines.\n\nReturns:\n    out: the result.";
        let (inputs, outputs) = descriptions(Some(doc));
        assert_eq!(inputs["a"], "the a.");
        assert_eq!(inputs["b"], "the b,\non two lines.");
        assert!(!inputs.contains_key("out"));
        assert_eq!(outputs["out"], "the result.");
        assert_eq!(outputs["a"], "the a.");
    }
}
