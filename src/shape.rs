//! Request shaping: opt-in rewrites of a request body for servers that refuse parts of the
//! official format. Pure: a JSON object in, the same object rewritten.

use std::collections::VecDeque;

use serde_json::{Map, Value};

/// Rewrites of every request body, for servers that refuse parts of the official format;
/// set with [`Config::request_shape`](crate::Config::request_shape).
///
/// The default rewrites nothing: the server receives the body the request serializes to,
/// and nothing is parsed again. Each rewrite is its own setting:
///
/// | setting | what the server receives instead | for servers that |
/// |---|---|---|
/// | [`developer_as_system`](RequestShape::developer_as_system) | `"role": "system"` for `"role": "developer"` | know no `developer` role (a FastAPI server's 422 `Input should be 'system', 'user', …`) |
/// | [`text_parts_as_string`](RequestShape::text_parts_as_string) | a content array of text parts as one string, the texts joined with `\n` (as llama.cpp and vLLM join them) | take only string content (a 422 `Input should be a valid string`) |
/// | [`omit_stream_options`](RequestShape::omit_stream_options) | no `stream_options` (so a stream has no usage chunk) | refuse it (vLLM 0.4's 400 `extra_forbidden`, a 500 `Unsupported param`) |
/// | [`fill_tool_call_ids`](RequestShape::fill_tool_call_ids) | `call_<m>_<k>` for a tool call of message `m` whose id is missing, `null` or empty, and the same id for the tool message answering it | refuse a missing, `null` or empty id |
///
/// A content array with anything but text parts (an image, a part with vendor keys such
/// as `cache_control`) is sent as it is. [`most_compatible`](RequestShape::most_compatible)
/// turns every rewrite on.
///
/// # Examples
///
/// ```
/// use sync_openai::config::{Config, RequestShape};
///
/// // An older vLLM: no developer role, no content arrays.
/// let config = Config::new()
///     .base_url("http://127.0.0.1:8000/v1")
///     .request_shape(RequestShape::new().developer_as_system(true).text_parts_as_string(true));
/// # drop(config);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestShape {
    developer_as_system: bool,
    text_parts_as_string: bool,
    omit_stream_options: bool,
    fill_tool_call_ids: bool,
}

impl RequestShape {
    /// No rewrite: the body as the request serializes to.
    pub fn new() -> RequestShape {
        RequestShape::default()
    }

    /// Every rewrite: the form the most servers accept, for a server whose refusals are
    /// not known yet.
    pub fn most_compatible() -> RequestShape {
        RequestShape {
            developer_as_system: true,
            text_parts_as_string: true,
            omit_stream_options: true,
            fill_tool_call_ids: true,
        }
    }

    /// Sends a `developer` message as a `system` message. Defaults to `false`.
    pub fn developer_as_system(mut self, on: bool) -> RequestShape {
        self.developer_as_system = on;
        self
    }

    /// Sends a content array made only of text parts (`{"type": "text", "text": …}`, no
    /// other key) as one string, the texts joined with a newline. Defaults to `false`.
    pub fn text_parts_as_string(mut self, on: bool) -> RequestShape {
        self.text_parts_as_string = on;
        self
    }

    /// Leaves `stream_options` out of every body; a stream then ends without a usage
    /// chunk. Defaults to `false`.
    pub fn omit_stream_options(mut self, on: bool) -> RequestShape {
        self.omit_stream_options = on;
        self
    }

    /// Gives every tool call in an assistant message an id: a missing, `null` or empty one
    /// becomes `call_<m>_<k>` (message `m`, call `k`, both from 0), and a tool message after
    /// it whose `tool_call_id` is missing, `null` or empty gets the next of those ids that
    /// no tool message answered yet. Defaults to `false`.
    pub fn fill_tool_call_ids(mut self, on: bool) -> RequestShape {
        self.fill_tool_call_ids = on;
        self
    }

    /// Whether no rewrite is on.
    pub(crate) fn is_plain(&self) -> bool {
        *self == RequestShape::default()
    }

    /// Rewrites a request body.
    pub(crate) fn apply(&self, body: &mut Map<String, Value>) {
        if self.omit_stream_options {
            body.remove("stream_options");
        }
        let Some(Value::Array(messages)) = body.get_mut("messages") else {
            return;
        };
        let mut unanswered = VecDeque::new();
        for (m, message) in messages.iter_mut().enumerate() {
            let Some(message) = message.as_object_mut() else {
                continue;
            };
            if self.developer_as_system && role(message) == Some("developer") {
                message.insert("role".to_owned(), Value::from("system"));
            }
            if self.text_parts_as_string {
                if let Some(text) = message.get("content").and_then(text_only) {
                    message.insert("content".to_owned(), Value::String(text));
                }
            }
            if self.fill_tool_call_ids {
                fill_ids(m, message, &mut unanswered);
            }
        }
    }
}

fn role(message: &Map<String, Value>) -> Option<&str> {
    message.get("role").and_then(Value::as_str)
}

/// The texts of a content array made only of text parts, joined with newlines.
fn text_only(content: &Value) -> Option<String> {
    let parts = content.as_array().filter(|parts| !parts.is_empty())?;
    let texts = parts.iter().map(|part| {
        let part = part.as_object().filter(|p| p.len() == 2)?;
        let text = part.get("text")?.as_str()?;
        (part.get("type")?.as_str()? == "text").then_some(text)
    });
    texts
        .collect::<Option<Vec<&str>>>()
        .map(|texts| texts.join("\n"))
}

/// A usable id: a non-empty string.
fn id_of(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|id| !id.is_empty())
}

/// Gives message `m`'s tool calls their ids, or a tool message the next unanswered id.
fn fill_ids(m: usize, message: &mut Map<String, Value>, unanswered: &mut VecDeque<String>) {
    match role(message) {
        Some("assistant") => {
            unanswered.clear();
            let Some(Value::Array(calls)) = message.get_mut("tool_calls") else {
                return;
            };
            for (k, call) in calls.iter_mut().enumerate() {
                let Some(call) = call.as_object_mut() else {
                    continue;
                };
                let id = match id_of(call.get("id")) {
                    Some(id) => id.to_owned(),
                    None => {
                        let id = format!("call_{m}_{k}");
                        call.insert("id".to_owned(), Value::String(id.clone()));
                        id
                    }
                };
                unanswered.push_back(id);
            }
        }
        Some("tool") => match id_of(message.get("tool_call_id")) {
            Some(id) => unanswered.retain(|pending| pending != id),
            None => {
                if let Some(id) = unanswered.pop_front() {
                    message.insert("tool_call_id".to_owned(), Value::String(id));
                }
            }
        },
        _ => {}
    }
}

#[cfg(test)]
// Tests may panic: a panic is the failure report.
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shaped(shape: RequestShape, body: Value) -> Value {
        let Value::Object(mut map) = body else {
            panic!("not an object")
        };
        shape.apply(&mut map);
        Value::Object(map)
    }

    #[test]
    fn the_default_changes_nothing() {
        let body = json!({
            "model": "m",
            "messages": [{"role": "developer", "content": [{"type": "text", "text": "a"}]}],
            "stream_options": {"include_usage": true}
        });
        assert!(RequestShape::new().is_plain());
        assert_eq!(shaped(RequestShape::new(), body.clone()), body);
    }

    #[test]
    fn developer_becomes_system_and_nothing_else_changes() {
        let body = json!({"messages": [
            {"role": "developer", "content": "Be brief.", "name": "d"},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]}
        ]});
        let shape = RequestShape::new().developer_as_system(true);
        assert_eq!(
            shaped(shape, body),
            json!({"messages": [
                {"role": "system", "content": "Be brief.", "name": "d"},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]}
            ]})
        );
    }

    #[test]
    fn text_parts_are_joined_and_other_arrays_kept() {
        let image = json!([{"type": "text", "text": "What is it?"},
                           {"type": "image_url", "image_url": {"url": "data:,"}}]);
        let cached =
            json!([{"type": "text", "text": "Long", "cache_control": {"type": "ephemeral"}}]);
        let body = json!({"messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hello,"}, {"type": "text", "text": "there."}]},
            {"role": "user", "content": image},
            {"role": "user", "content": cached},
            {"role": "user", "content": []},
            {"role": "assistant", "content": "plain"}
        ]});
        let shape = RequestShape::new().text_parts_as_string(true);
        assert_eq!(
            shaped(shape, body),
            json!({"messages": [
                {"role": "user", "content": "Hello,\nthere."},
                {"role": "user", "content": image},
                {"role": "user", "content": cached},
                {"role": "user", "content": []},
                {"role": "assistant", "content": "plain"}
            ]})
        );
    }

    #[test]
    fn stream_options_are_left_out() {
        let body = json!({"model": "m", "stream": true, "stream_options": {"include_usage": true}});
        let shape = RequestShape::new().omit_stream_options(true);
        assert_eq!(shaped(shape, body), json!({"model": "m", "stream": true}));
    }

    #[test]
    fn missing_null_and_empty_tool_call_ids_are_filled_and_answered_in_order() {
        let body = json!({"messages": [
            {"role": "user", "content": "Go"},
            {"role": "assistant", "tool_calls": [
                {"type": "function", "id": "", "function": {"name": "a", "arguments": "{}"}},
                {"type": "mcp", "id": null},
                {"type": "function", "id": "call_kept", "function": {"name": "c", "arguments": "{}"}},
                {"type": "function", "function": {"name": "d", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_kept", "content": "c done"},
            {"role": "tool", "tool_call_id": "", "content": "a done"},
            {"role": "tool", "content": "mcp done"},
            {"role": "tool", "tool_call_id": null, "content": "d done"},
            {"role": "tool", "tool_call_id": "", "content": "one too many"}
        ]});
        let shape = RequestShape::new().fill_tool_call_ids(true);
        assert_eq!(
            shaped(shape, body),
            json!({"messages": [
                {"role": "user", "content": "Go"},
                {"role": "assistant", "tool_calls": [
                    {"type": "function", "id": "call_1_0", "function": {"name": "a", "arguments": "{}"}},
                    {"type": "mcp", "id": "call_1_1"},
                    {"type": "function", "id": "call_kept", "function": {"name": "c", "arguments": "{}"}},
                    {"type": "function", "id": "call_1_3", "function": {"name": "d", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_kept", "content": "c done"},
                {"role": "tool", "tool_call_id": "call_1_0", "content": "a done"},
                {"role": "tool", "tool_call_id": "call_1_1", "content": "mcp done"},
                {"role": "tool", "tool_call_id": "call_1_3", "content": "d done"},
                {"role": "tool", "tool_call_id": "", "content": "one too many"}
            ]})
        );
    }

    #[test]
    fn most_compatible_is_every_rewrite() {
        let all = RequestShape::new()
            .developer_as_system(true)
            .text_parts_as_string(true)
            .omit_stream_options(true)
            .fill_tool_call_ids(true);
        assert_eq!(RequestShape::most_compatible(), all);
        assert!(!all.is_plain());
    }

    #[test]
    fn bodies_without_messages_are_left_alone() {
        let body = json!({"metadata": {"role": "developer"}, "messages": "not an array"});
        assert_eq!(shaped(RequestShape::most_compatible(), body.clone()), body);
    }
}
