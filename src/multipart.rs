//! A minimal `multipart/form-data` encoder (RFC 7578) for the Files API upload.
//!
//! Written here rather than taken from ureq's `multipart` feature: ureq 3.5 keeps that API
//! under `unversioned` (no semver promise), it pulls in `mime_guess` and `getrandom`, and
//! it streams the body once, while the send loop resends the same bytes on a retry. The
//! whole form is encoded into one buffer, with a boundary that occurs in no part.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// The fields of a form, in order.
#[derive(Debug, Default)]
pub(crate) struct Form {
    parts: Vec<Part>,
}

#[derive(Debug)]
struct Part {
    name: String,
    /// `Some((filename, content type))` for a file part.
    file: Option<(String, String)>,
    bytes: Vec<u8>,
}

impl Form {
    pub(crate) fn new() -> Form {
        Form::default()
    }

    /// A text field.
    pub(crate) fn text(mut self, name: &str, value: &str) -> Form {
        self.parts.push(Part {
            name: name.to_owned(),
            file: None,
            bytes: value.as_bytes().to_vec(),
        });
        self
    }

    /// A file field.
    pub(crate) fn file(
        mut self,
        name: &str,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Form {
        self.parts.push(Part {
            name: name.to_owned(),
            file: Some((filename.to_owned(), content_type.to_owned())),
            bytes: bytes.to_vec(),
        });
        self
    }

    /// The `Content-Type` header value (with its boundary) and the encoded body.
    pub(crate) fn encode(&self) -> (String, Vec<u8>) {
        let seed = RandomState::new().build_hasher().finish();
        let boundary = (0u64..)
            .map(|n| format!("sync-openai-{:016x}", seed.wrapping_add(n)))
            .find(|b| !self.parts.iter().any(|p| contains(&p.bytes, b.as_bytes())))
            .unwrap_or_default();
        (
            format!("multipart/form-data; boundary={boundary}"),
            self.encode_with(&boundary),
        )
    }

    fn encode_with(&self, boundary: &str) -> Vec<u8> {
        let size: usize = self.parts.iter().map(|p| p.bytes.len() + 160).sum();
        let mut out = Vec::with_capacity(size + boundary.len() * 2);
        for part in &self.parts {
            out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition = format!(
                "Content-Disposition: form-data; name=\"{}\"",
                quote(&part.name)
            );
            if let Some((filename, content_type)) = &part.file {
                disposition.push_str(&format!(
                    "; filename=\"{}\"\r\nContent-Type: {content_type}",
                    quote(filename)
                ));
            }
            out.extend_from_slice(disposition.as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(&part.bytes);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }
}

/// A name or file name for a quoted header parameter: `"`, CR and LF percent-encoded, as
/// browsers do (HTML's form encoding), so no name can end the quote or the header.
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_text_and_file_parts() {
        let form = Form::new().text("purpose", "batch").file(
            "file",
            "in\"put\r\n.jsonl",
            "application/jsonl",
            b"{}\n{}\n",
        );
        let body = String::from_utf8(form.encode_with("XYZ")).unwrap_or_default();
        assert_eq!(
            body,
            "--XYZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
             --XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in%22put%0D%0A.jsonl\"\r\n\
             Content-Type: application/jsonl\r\n\r\n{}\n{}\n\r\n--XYZ--\r\n"
        );
    }

    #[test]
    fn boundary_is_in_no_part() {
        let (content_type, body) = Form::new().text("a", "sync-openai-").encode();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap_or("");
        assert!(boundary.starts_with("sync-openai-") && boundary.len() == 28);
        assert!(body.starts_with(format!("--{boundary}\r\n").as_bytes()));
        assert!(body.ends_with(format!("--{boundary}--\r\n").as_bytes()));
    }
}
