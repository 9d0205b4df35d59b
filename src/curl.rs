//! `ChatApi::curl`: the request this client would send, as a command to paste into a shell.

use std::fmt::Write as _;

use crate::agent::USER_AGENT;
use crate::api::ChatApi;
use crate::http;
use crate::send::Call;
use crate::types::CreateChatCompletionRequest;
use crate::util::is_secret_header;

impl ChatApi {
    /// The request [`create_chat_completion`](ChatApi::create_chat_completion) would send,
    /// as a `curl` command: the exact URL with its query, every header, and the body
    /// byte for byte (with the fields of [`RequestOptions::body_field`](crate::RequestOptions::body_field)).
    ///
    /// Secrets are not written: the key is `$OPENAI_API_KEY` (`$AZURE_OPENAI_API_KEY` for
    /// Azure's `api-key`), for the shell to fill in, and any other header whose name says it
    /// holds a secret (`x-api-key`, `x-goog-api-key`, `…-token`, `cookie`) is the variable of
    /// its name in capitals, such as `$X_API_KEY`. A client with a token provider is written
    /// with `$OPENAI_API_KEY` too: set it to a token. Credentials in the base URL
    /// (`user:password@`) leave the URL and become `-u "$BASE_URL_USERINFO"`. Everything else is single-quoted, so
    /// quotes, `$`, backticks, backslashes, line breaks and any Unicode in the body reach
    /// the server unchanged. A request with `stream: Some(true)` asks for the event stream
    /// and adds `--no-buffer`. `Accept-Encoding` is left to curl.
    ///
    /// A request that cannot be encoded gives a shell comment saying why.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_openai::{ChatApi, Config};
    /// use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
    ///
    /// let api = ChatApi::new(Config::new().api_key("sk-..."));
    /// let req = CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("It's $5")]);
    /// let command = api.curl(&req);
    /// assert!(command.starts_with("curl 'https://api.openai.com/v1/chat/completions' \\\n"));
    /// assert!(command.contains(r#"-H "authorization: Bearer $OPENAI_API_KEY""#));
    /// assert!(command.ends_with(r#"--data-raw '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"It'\''s $5"}]}'"#));
    /// assert!(!command.contains("sk-..."));
    /// ```
    pub fn curl(&self, req: &CreateChatCompletionRequest) -> String {
        let body = match self.sender().encode(req) {
            Ok(body) => body,
            Err(e) => return comment(&e.to_string()),
        };
        let mut call = Call::post("/chat/completions", body);
        let stream = req.stream == Some(true);
        if stream {
            call = call.stream();
        }
        let request = match self.sender().build_request(&call, None) {
            Ok(request) => request,
            Err(e) => return comment(&e.to_string()),
        };
        let mut headers: Vec<String> = vec![
            format!("user-agent: {USER_AGENT}"),
            "accept: application/json".to_owned(),
        ];
        if self.config().token_provider.is_some() {
            headers.push(format!(
                "{}: Bearer \u{0}OPENAI_API_KEY",
                http::header::AUTHORIZATION
            ));
        }
        for (name, value) in request.headers() {
            headers.retain(|h| !h.starts_with(&format!("{name}:")));
            let value = if is_secret_header(name.as_str()) {
                placeholder(name.as_str(), value.to_str().unwrap_or_default())
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            headers.push(format!("{name}: {value}"));
        }
        let (url, userinfo) = without_userinfo(&request.uri().to_string());
        let mut out = command(&url, &headers, request.body(), stream);
        if userinfo {
            // Credentials in base_url (`user:password@`) are a secret like the key.
            out.push_str(" \\\n  -u \"$BASE_URL_USERINFO\"");
        }
        out
    }
}

/// The URL without the `user:password@` of its authority, and whether it had one.
fn without_userinfo(url: &str) -> (String, bool) {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return (url.to_owned(), false);
    };
    let rest = url.get(start..).unwrap_or_default();
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    match authority.rfind('@') {
        Some(at) => {
            let host = authority.get(at + 1..).unwrap_or_default();
            let tail = rest.get(end..).unwrap_or_default();
            (
                format!("{}{host}{tail}", url.get(..start).unwrap_or_default()),
                true,
            )
        }
        None => (url.to_owned(), false),
    }
}

/// The value of a secret header with the secret replaced by a shell variable, marked by a
/// NUL (which no header value can hold) for [`command`] to leave unquoted.
fn placeholder(name: &str, value: &str) -> String {
    match name {
        "authorization" | "proxy-authorization" => {
            match value.split_once(' ') {
                // Keep the scheme (`Bearer`, `Basic`) as it is.
                Some((scheme, _)) if name == "authorization" => {
                    format!("{scheme} \u{0}OPENAI_API_KEY")
                }
                Some((scheme, _)) => format!("{scheme} \u{0}PROXY_AUTHORIZATION"),
                None => format!("\u{0}{}", variable(name)),
            }
        }
        "api-key" => "\u{0}AZURE_OPENAI_API_KEY".to_owned(),
        _ => format!("\u{0}{}", variable(name)),
    }
}

/// A shell variable name for a header: `x-goog-api-key` → `X_GOOG_API_KEY`.
fn variable(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_ascii_uppercase(),
            _ => '_',
        })
        .collect()
}

/// The command, one option per line.
fn command(url: &str, headers: &[String], body: &[u8], stream: bool) -> String {
    let mut out = format!("curl {}", quote(url));
    if stream {
        out.push_str(" \\\n  --no-buffer");
    }
    for header in headers {
        let _ = write!(out, " \\\n  -H {}", quote_header(header));
    }
    if !body.is_empty() {
        let _ = write!(
            out,
            " \\\n  --data-raw {}",
            quote(&String::from_utf8_lossy(body))
        );
    }
    out
}

/// A header, single-quoted, or double-quoted around a placeholder variable: the part before
/// the NUL mark is plain header text (no `"`, `$`, `` ` `` or `\` can be in a header name or
/// scheme, but they are escaped all the same).
fn quote_header(header: &str) -> String {
    match header.split_once('\u{0}') {
        None => quote(header),
        Some((text, variable)) => {
            let mut out = String::from("\"");
            for c in text.chars() {
                if matches!(c, '"' | '$' | '`' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            let _ = write!(out, "${variable}\"");
            out
        }
    }
}

/// Single-quotes a word for any POSIX shell: inside `'…'` every byte is literal; a `'` is
/// written as `'\''` (close, an escaped quote, reopen).
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A shell comment line: every line of `text` starts with `# `.
fn comment(text: &str) -> String {
    text.lines()
        .map(|l| format!("# {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use super::*;

    /// Runs `sh -c "printf %s <quoted>"` and returns what the shell printed.
    fn through_sh(text: &str) -> Vec<u8> {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", quote(text)))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out.stdout
    }

    #[test]
    fn quoted_text_reaches_the_program_unchanged() {
        let nasty = "it's \"$HOME\" `id` $(id) \\n \\ ! * ~ # ;\nline two\r\n\ttab é 日本 🦀 ''' '";
        assert_eq!(through_sh(nasty), nasty.as_bytes());
        assert_eq!(through_sh(""), b"");
    }

    #[test]
    fn credentials_in_the_base_url_become_a_variable() {
        let (url, had) = without_userinfo("https://bob:hunter2-secret@gw.example/v1/chat?x=1");
        assert_eq!(
            (url.as_str(), had),
            ("https://gw.example/v1/chat?x=1", true)
        );
        let (url, had) = without_userinfo("http://127.0.0.1:8080/v1/a@b");
        assert_eq!((url.as_str(), had), ("http://127.0.0.1:8080/v1/a@b", false));
        let api = crate::api::ChatApi::new(
            crate::config::Config::new().base_url("https://bob:hunter2-secret@gw.example/v1"),
        );
        let req = crate::types::CreateChatCompletionRequest::new("m", Vec::new());
        let command = api.curl(&req);
        assert!(!command.contains("hunter2"), "{command}");
        assert!(
            command.starts_with("curl 'https://gw.example/v1/chat/completions'"),
            "{command}"
        );
        assert!(command.ends_with("-u \"$BASE_URL_USERINFO\""), "{command}");
    }

    #[test]
    fn secret_headers_become_variables() {
        assert_eq!(
            quote_header(&format!(
                "authorization: {}",
                placeholder("authorization", "Bearer sk-1")
            )),
            "\"authorization: Bearer $OPENAI_API_KEY\""
        );
        assert_eq!(
            quote_header(&format!(
                "x-goog-api-key: {}",
                placeholder("x-goog-api-key", "AIza")
            )),
            "\"x-goog-api-key: $X_GOOG_API_KEY\""
        );
        assert_eq!(quote_header("x-team: a'b"), "'x-team: a'\\''b'");
    }

    #[test]
    fn a_comment_is_a_comment_on_every_line() {
        assert_eq!(comment("a\nb"), "# a\n# b");
    }
}
