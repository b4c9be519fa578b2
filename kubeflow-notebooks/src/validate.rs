//! Name and value checks that match what the API server and the notebook controller accept,
//! so mistakes are reported before anything is sent.

use crate::error::{Error, Result};

/// A notebook name: a DNS-1035 label (it names a Service), at most 52 characters (the
/// StatefulSet's `controller-revision-hash` label, `<name>-<hash>`, must fit in 63).
pub(crate) fn notebook_name(name: &str) -> Result<()> {
    const MAX: usize = 52;
    if name.is_empty() {
        return Err(Error::invalid("name", "the name must not be empty"));
    }
    if name.len() > MAX {
        return Err(Error::invalid(
            "name",
            format!(
                "`{name}` has {} characters; at most {MAX} are allowed (the StatefulSet the \
                 controller creates adds a revision hash to it in a 63-character label)",
                name.len()
            ),
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(Error::invalid(
            "name",
            format!("`{name}` must start with a lowercase letter (it also names a Service)"),
        ));
    }
    dns_label("name", name, MAX)
}

/// A DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a letter or
/// digit, at most `max` characters.
pub(crate) fn dns_label(field: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() || value.len() > max {
        return Err(Error::invalid(
            field,
            format!("`{value}` must have 1 to {max} characters"),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(Error::invalid(
            field,
            format!("`{value}` contains `{c}`: only lowercase letters, digits and `-` are allowed"),
        ));
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Err(Error::invalid(
            field,
            format!("`{value}` must start and end with a letter or a digit"),
        ));
    }
    Ok(())
}

/// A DNS-1123 subdomain (PVC, storage class and service account names): dot-separated labels,
/// at most 253 characters.
pub(crate) fn dns_subdomain(field: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 253 {
        return Err(Error::invalid(
            field,
            format!("`{value}` must have 1 to 253 characters"),
        ));
    }
    for part in value.split('.') {
        dns_label(field, part, 63).map_err(|_| {
            Error::invalid(
                field,
                format!(
                    "`{value}` is not a valid name: lowercase letters, digits, `-` and `.`, \
                     starting and ending with a letter or digit"
                ),
            )
        })?;
    }
    Ok(())
}

/// A label or annotation key: `[prefix/]name`, name ≤ 63 characters of alphanumerics, `-`,
/// `_`, `.`, starting and ending alphanumeric; prefix a DNS subdomain.
pub(crate) fn qualified_name(field: &str, key: &str) -> Result<()> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let field = format!("{field}.{key}");
    if let Some(p) = prefix {
        dns_subdomain(&field, p)?;
    }
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ok {
        return Err(Error::invalid(
            field,
            format!(
                "`{key}` is not a valid key: an optional DNS prefix and `/`, then up to 63 \
                 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"
            ),
        ));
    }
    Ok(())
}

/// A label value: empty, or ≤ 63 alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
pub(crate) fn label_value(key: &str, value: &str) -> Result<()> {
    let ok = value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("labels.{key}"),
            format!(
                "`{value}` is not a valid label value (up to 63 letters, digits, `-`, `_`, `.`)"
            ),
        ))
    }
}

/// An extended resource name: `domain/name`.
pub(crate) fn resource_name(field: &str, value: &str) -> Result<()> {
    if !value.contains('/') {
        return Err(Error::invalid(
            field,
            format!("`{value}` must be a resource name with a domain, like `habana.ai/gaudi`"),
        ));
    }
    qualified_name(field, value)
}

/// An environment variable name: printable ASCII without `=`, not empty.
pub(crate) fn env_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid("env", "a variable name must not be empty"));
    }
    if let Some(c) = name.chars().find(|c| !c.is_ascii_graphic() || *c == '=') {
        return Err(Error::invalid(
            format!("env.{name}"),
            format!("the name contains {c:?}: printable ASCII without `=` or spaces is required"),
        ));
    }
    Ok(())
}

/// A mount path: absolute, no `..` component, no `:`.
pub(crate) fn mount_path(field: &str, path: &str) -> Result<()> {
    if !path.starts_with('/') {
        return Err(Error::invalid(
            field,
            format!("`{path}` must be an absolute path"),
        ));
    }
    if path.split('/').any(|p| p == "..") || path.contains(':') {
        return Err(Error::invalid(
            field,
            format!("`{path}` must not contain `..` or `:`"),
        ));
    }
    Ok(())
}
