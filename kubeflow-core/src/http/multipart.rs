//! A small `multipart/form-data` encoder whose output can be re-sent (retries, re-authentication).

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderValue;

/// A `multipart/form-data` body.
#[derive(Debug, Clone, Default)]
pub struct Multipart {
    parts: Vec<Part>,
}

/// One part of a [`Multipart`] body.
#[derive(Debug, Clone)]
pub struct Part {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    data: Bytes,
}

impl Part {
    /// A text field.
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Self {
        Part {
            name: name.into(),
            filename: None,
            content_type: None,
            data: Bytes::from(value.into()),
        }
    }

    /// A file field.
    pub fn file(
        name: impl Into<String>,
        filename: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Self {
        Part {
            name: name.into(),
            filename: Some(filename.into()),
            content_type: Some("application/octet-stream".into()),
            data: data.into(),
        }
    }

    /// Sets the part's content type.
    pub fn content_type(mut self, ct: impl Into<String>) -> Self {
        self.content_type = Some(ct.into());
        self
    }
}

impl Multipart {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a part.
    pub fn part(mut self, part: Part) -> Self {
        self.parts.push(part);
        self
    }

    /// The encoded body and its content type.
    pub(crate) fn encode(&self) -> (Bytes, HeaderValue) {
        let boundary = loop {
            let b = format!(
                "kubeflow-rs-{:016x}{:016x}",
                fastrand::u64(..),
                fastrand::u64(..)
            );
            if !self.parts.iter().any(|p| contains(&p.data, b.as_bytes())) {
                break b;
            }
        };
        let mut out = BytesMut::new();
        for p in &self.parts {
            out.put_slice(b"--");
            out.put_slice(boundary.as_bytes());
            out.put_slice(b"\r\nContent-Disposition: form-data; name=\"");
            out.put_slice(escape(&p.name).as_bytes());
            out.put_slice(b"\"");
            if let Some(f) = &p.filename {
                out.put_slice(b"; filename=\"");
                out.put_slice(escape(f).as_bytes());
                out.put_slice(b"\"");
            }
            out.put_slice(b"\r\n");
            if let Some(ct) = &p.content_type {
                out.put_slice(b"Content-Type: ");
                out.put_slice(ct.replace(['\r', '\n'], "").as_bytes());
                out.put_slice(b"\r\n");
            }
            out.put_slice(b"\r\n");
            out.put_slice(&p.data);
            out.put_slice(b"\r\n");
        }
        out.put_slice(b"--");
        out.put_slice(boundary.as_bytes());
        out.put_slice(b"--\r\n");
        #[allow(clippy::unwrap_used)] // ASCII only: always a valid header value
        let ct =
            HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}")).unwrap();
        (out.freeze(), ct)
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(['\r', '\n'], " ")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_parts() {
        let form = Multipart::new().part(Part::text("name", "p1")).part(
            Part::file("uploadfile", "p.yaml", &b"a: 1\n"[..]).content_type("application/x-yaml"),
        );
        let (body, ct) = form.encode();
        let ct = ct.to_str().unwrap_or_default().to_owned();
        let boundary = ct.split("boundary=").nth(1).unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\np1\r\n"
        )));
        assert!(text.contains("name=\"uploadfile\"; filename=\"p.yaml\"\r\nContent-Type: application/x-yaml\r\n\r\na: 1\n\r\n"));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }
}
