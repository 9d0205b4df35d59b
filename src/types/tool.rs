//! Tools, tool choice, tool calls and functions.

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::enums::{AllowedToolsMode, FunctionCallMode, GrammarSyntax, ToolChoiceMode};
use super::lenient::{lenient_struct, NullDefault, StrOrJson};

/// A tool the model may call, tagged by `type`: a function tool or a custom tool.
///
/// # Examples
///
/// ```
/// use sync_openai::types::ChatCompletionTool;
/// use serde_json::json;
///
/// let tool = ChatCompletionTool::function(
///     "get_weather",
///     "Get the weather for a city",
///     json!({"type": "object", "properties": {"city": {"type": "string"}}}),
/// );
/// assert_eq!(serde_json::to_value(&tool).unwrap()["function"]["name"], "get_weather");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatCompletionTool {
    /// A function tool that can be used to generate a response.
    Function {
        /// The function.
        function: FunctionObject,
    },
    /// A custom tool that processes input using a specified format.
    Custom {
        /// Properties of the custom tool.
        custom: CustomToolProperties,
    },
}

impl ChatCompletionTool {
    /// A function tool with a description and a JSON Schema for its parameters.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Self::Function {
            function: FunctionObject::new(name)
                .description(description)
                .parameters(parameters),
        }
    }

    /// A custom tool taking unconstrained text.
    pub fn custom(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::Custom {
            custom: CustomToolProperties {
                name: name.into(),
                description: Some(description.into()),
                format: None,
            },
        }
    }
}

impl From<FunctionObject> for ChatCompletionTool {
    fn from(function: FunctionObject) -> Self {
        Self::Function { function }
    }
}

impl From<CustomToolProperties> for ChatCompletionTool {
    fn from(custom: CustomToolProperties) -> Self {
        Self::Custom { custom }
    }
}

/// A function the model may call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionObject {
    /// The name of the function to be called. Must be a-z, A-Z, 0-9, or contain underscores and
    /// dashes, with a maximum length of 64.
    pub name: String,
    /// A description of what the function does, used by the model to choose when and how to
    /// call the function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The parameters the function accepts, described as a JSON Schema object. Omitting
    /// `parameters` defines a function with an empty parameter list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Whether to enable strict schema adherence when generating the function call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl FunctionObject {
    /// A function with only a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets [`description`](#structfield.description). Defaults to unset.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets [`parameters`](#structfield.parameters). Defaults to unset.
    pub fn parameters(mut self, parameters: impl Into<Value>) -> Self {
        self.parameters = Some(parameters.into());
        self
    }

    /// Sets [`strict`](#structfield.strict). Defaults to unset (the server's default is `false`).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = Some(strict);
        self
    }
}

/// Properties of a custom tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomToolProperties {
    /// The name of the custom tool, used to identify it in tool calls.
    pub name: String,
    /// Optional description of the custom tool, used to provide more context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The input format for the custom tool. Default is unconstrained text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<CustomToolFormat>,
}

/// The input format of a custom tool, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CustomToolFormat {
    /// Unconstrained free-form text.
    Text,
    /// A grammar defined by the user.
    Grammar {
        /// Your chosen grammar.
        grammar: CustomToolGrammar,
    },
}

impl CustomToolFormat {
    /// A grammar format.
    pub fn grammar(definition: impl Into<String>, syntax: impl Into<GrammarSyntax>) -> Self {
        Self::Grammar {
            grammar: CustomToolGrammar {
                definition: definition.into(),
                syntax: syntax.into(),
            },
        }
    }
}

/// A grammar for a custom tool's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomToolGrammar {
    /// The grammar definition.
    pub definition: String,
    /// The syntax of the grammar definition. One of `lark` or `regex`.
    pub syntax: GrammarSyntax,
}

/// Controls which (if any) tool is called by the model.
///
/// `none` means the model will not call any tool and instead generates a message. `auto` means
/// the model can pick between generating a message or calling one or more tools. `required`
/// means the model must call one or more tools. Naming a tool forces the model to call it.
/// `none` is the default when no tools are present, `auto` if tools are present.
///
/// Serialized exactly as the spec's shapes: `"auto"`,
/// `{"type":"allowed_tools","allowed_tools":{…}}`, `{"type":"function","function":{"name":…}}`,
/// `{"type":"custom","custom":{"name":…}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatCompletionToolChoiceOption {
    /// `none`, `auto` or `required`.
    Mode(ToolChoiceMode),
    /// Constrains the tools available to the model to a pre-defined set.
    AllowedTools(ChatCompletionAllowedTools),
    /// Forces the model to call the named function.
    Function {
        /// The name of the function to call.
        name: String,
    },
    /// Forces the model to call the named custom tool.
    Custom {
        /// The name of the custom tool to call.
        name: String,
    },
}

impl ChatCompletionToolChoiceOption {
    /// `"none"`: the model will not call any tool.
    pub fn none() -> Self {
        Self::Mode(ToolChoiceMode::None)
    }

    /// `"auto"`: the model may call tools.
    pub fn auto() -> Self {
        Self::Mode(ToolChoiceMode::Auto)
    }

    /// `"required"`: the model must call one or more tools.
    pub fn required() -> Self {
        Self::Mode(ToolChoiceMode::Required)
    }

    /// Forces a call of the named function.
    pub fn function(name: impl Into<String>) -> Self {
        Self::Function { name: name.into() }
    }

    /// Forces a call of the named custom tool.
    pub fn custom(name: impl Into<String>) -> Self {
        Self::Custom { name: name.into() }
    }

    /// Restricts the model to `tools`, given as tool definitions such as
    /// `{"type": "function", "function": {"name": "get_weather"}}`.
    pub fn allowed_tools(mode: impl Into<AllowedToolsMode>, tools: Vec<Value>) -> Self {
        Self::AllowedTools(ChatCompletionAllowedTools {
            mode: mode.into(),
            tools,
        })
    }
}

impl From<ToolChoiceMode> for ChatCompletionToolChoiceOption {
    fn from(mode: ToolChoiceMode) -> Self {
        Self::Mode(mode)
    }
}

impl From<ChatCompletionAllowedTools> for ChatCompletionToolChoiceOption {
    fn from(allowed: ChatCompletionAllowedTools) -> Self {
        Self::AllowedTools(allowed)
    }
}

#[derive(Serialize)]
struct NameRef<'a> {
    name: &'a str,
}

impl Serialize for ChatCompletionToolChoiceOption {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Mode(mode) => mode.serialize(serializer),
            Self::AllowedTools(allowed) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "allowed_tools")?;
                map.serialize_entry("allowed_tools", allowed)?;
                map.end()
            }
            Self::Function { name } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "function")?;
                map.serialize_entry("function", &NameRef { name })?;
                map.end()
            }
            Self::Custom { name } => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("type", "custom")?;
                map.serialize_entry("custom", &NameRef { name })?;
                map.end()
            }
        }
    }
}

/// The `name` inside `{"function": {"name": …}}` of a named tool choice.
fn named<E: serde::de::Error>(obj: &Map<String, Value>, key: &str) -> Result<String, E> {
    obj.get(key)
        .and_then(|inner| inner.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| E::custom(format_args!("tool_choice of type {key} needs {key}.name")))
}

impl<'de> Deserialize<'de> for ChatCompletionToolChoiceOption {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Tool choices are small and only appear in requests; going through `Value` keeps this
        // simple.
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(Self::Mode(ToolChoiceMode::from(s))),
            Value::Object(obj) => match obj.get("type").and_then(Value::as_str) {
                Some("allowed_tools") => {
                    let inner = obj.get("allowed_tools").cloned().unwrap_or(Value::Null);
                    ChatCompletionAllowedTools::deserialize(inner)
                        .map(Self::AllowedTools)
                        .map_err(D::Error::custom)
                }
                Some("function") => named(&obj, "function").map(|name| Self::Function { name }),
                Some("custom") => named(&obj, "custom").map(|name| Self::Custom { name }),
                Some(other) => Err(D::Error::custom(format_args!(
                    "unknown tool_choice type {other:?}"
                ))),
                None => Err(D::Error::custom("tool_choice object without a type")),
            },
            _ => Err(D::Error::custom(
                "tool_choice must be a string or an object",
            )),
        }
    }
}

/// Constrains the tools available to the model to a pre-defined set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionAllowedTools {
    /// `auto` allows the model to pick from among the allowed tools and generate a message;
    /// `required` requires the model to call one or more of the allowed tools.
    pub mode: AllowedToolsMode,
    /// A list of tool definitions that the model should be allowed to call, such as
    /// `{"type": "function", "function": {"name": "get_weather"}}`.
    pub tools: Vec<Value>,
}

/// The deprecated `function_call` request option (deprecated by OpenAI in favor of
/// `tool_choice`): a mode string, or `{"name": …}` to force a function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatCompletionFunctionCallOption {
    /// `none` or `auto`.
    Mode(FunctionCallMode),
    /// Forces the model to call the named function.
    Named {
        /// The name of the function to call.
        name: String,
    },
}

impl From<FunctionCallMode> for ChatCompletionFunctionCallOption {
    fn from(mode: FunctionCallMode) -> Self {
        Self::Mode(mode)
    }
}

/// A function the model may generate JSON inputs for (deprecated by OpenAI in favor of tools).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionFunctions {
    /// A description of what the function does, used by the model to choose when and how to
    /// call the function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The name of the function to be called. Must be a-z, A-Z, 0-9, or contain underscores and
    /// dashes, with a maximum length of 64.
    pub name: String,
    /// The parameters the function accepts, described as a JSON Schema object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// The name and arguments of a function that should be called, as generated by the model.
///
/// Both fields default to `""` when a server leaves them out or sends `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FunctionCall {
    /// The name of the function to call.
    pub name: String,
    /// The arguments to call the function with, as generated by the model in JSON format. The
    /// model does not always generate valid JSON, and may hallucinate parameters not defined by
    /// your function schema: validate the arguments before calling your function.
    ///
    /// A server that sends the arguments as a JSON object rather than a string gets them
    /// kept as that object's JSON text.
    pub arguments: String,
}

lenient_struct!(FunctionCall {
    name: NullDefault<String>,
    arguments: StrOrJson,
}; skip_unknown);

impl FunctionCall {
    /// A function call with the given name and JSON arguments.
    pub fn new(name: impl Into<String>, arguments: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            arguments: arguments.into(),
        }
    }
}

/// One tool call generated by the model: a function call, a custom tool call, or a kind this
/// crate does not know (kept as raw JSON).
///
/// Decoding looks at `type`: `"function"` or no `type` at all is a
/// [`Function`](Self::Function) call (a malformed one is an error), `"custom"` is a
/// [`Custom`](Self::Custom) call, anything else is [`Other`](Self::Other).
#[derive(Debug, Clone, PartialEq)]
pub enum ChatCompletionMessageToolCalls {
    /// A call to a function tool.
    Function(ChatCompletionMessageToolCall),
    /// A call to a custom tool.
    Custom(ChatCompletionMessageCustomToolCall),
    /// A tool call of a type this crate does not know, as received.
    Other(Value),
}

impl ChatCompletionMessageToolCalls {
    /// The id of the tool call, if it has one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Function(c) => Some(&c.id),
            Self::Custom(c) => Some(&c.id),
            Self::Other(v) => v.get("id").and_then(Value::as_str),
        }
    }

    /// The function call, if this is one.
    pub fn as_function(&self) -> Option<&ChatCompletionMessageToolCall> {
        match self {
            Self::Function(c) => Some(c),
            _ => None,
        }
    }
}

impl From<ChatCompletionMessageToolCall> for ChatCompletionMessageToolCalls {
    fn from(call: ChatCompletionMessageToolCall) -> Self {
        Self::Function(call)
    }
}

impl From<ChatCompletionMessageCustomToolCall> for ChatCompletionMessageToolCalls {
    fn from(call: ChatCompletionMessageCustomToolCall) -> Self {
        Self::Custom(call)
    }
}

impl Serialize for ChatCompletionMessageToolCalls {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Function(c) => c.serialize(serializer),
            Self::Custom(c) => c.serialize(serializer),
            Self::Other(v) => v.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ChatCompletionMessageToolCalls {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Tool calls are rare next to content; one pass through `Value` lets us dispatch on
        // `type` and keep unknown kinds verbatim.
        let value = Value::deserialize(deserializer)?;
        if is_kind(&value, "function") {
            ChatCompletionMessageToolCall::deserialize(value)
                .map(Self::Function)
                .map_err(D::Error::custom)
        } else if is_kind(&value, "custom") {
            ChatCompletionMessageCustomToolCall::deserialize(value)
                .map(Self::Custom)
                .map_err(D::Error::custom)
        } else {
            // `"id": null` would go back to the server as it came; absent, as a stream's
            // accumulated call of this kind has it, it is never sent as `null`.
            let mut value = value;
            if let Some(call) = value
                .as_object_mut()
                .filter(|c| c.get("id") == Some(&Value::Null))
            {
                call.remove("id");
            }
            Ok(Self::Other(value))
        }
    }
}

/// `true` when `type` is `kind`, or when `kind` is `function` and there is no `type` (or a
/// `null` one).
fn is_kind(value: &Value, kind: &str) -> bool {
    match value.get("type") {
        None | Some(Value::Null) => kind == "function",
        Some(t) => t.as_str() == Some(kind),
    }
}

/// A call to a function tool created by the model.
///
/// Serialized with `"type": "function"`. Keys a server adds (OpenAI-compatible servers put
/// `index` here, Gemini `extra_content`) land in [`extra`](Self::extra) and are serialized back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatCompletionMessageToolCall {
    /// The ID of the tool call (`""` if the server sent none).
    pub id: String,
    /// The function that the model called.
    pub function: FunctionCall,
    /// Fields this crate does not model, kept as received.
    pub extra: Map<String, Value>,
}

impl ChatCompletionMessageToolCall {
    /// A function tool call with the given id, function name and JSON arguments.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            function: FunctionCall::new(name, arguments),
            extra: Map::new(),
        }
    }
}

// `type` is implied by the struct (and written back by `serialize_call`): not kept in `extra`.
lenient_struct!(ChatCompletionMessageToolCall {
    id: NullDefault<String>,
    function: NullDefault<FunctionCall>,
}; drop "type");

fn serialize_call<S: Serializer, T: Serialize>(
    serializer: S,
    id: &str,
    kind: &str,
    body: &T,
    extra: &Map<String, Value>,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("id", id)?;
    map.serialize_entry("type", kind)?;
    map.serialize_entry(kind, body)?;
    for (k, v) in extra {
        if k != "id" && k != "type" && k != kind {
            map.serialize_entry(k, v)?;
        }
    }
    map.end()
}

impl Serialize for ChatCompletionMessageToolCall {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_call(
            serializer,
            &self.id,
            "function",
            &self.function,
            &self.extra,
        )
    }
}

/// A call to a custom tool created by the model. Serialized with `"type": "custom"`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatCompletionMessageCustomToolCall {
    /// The ID of the tool call.
    pub id: String,
    /// The custom tool that the model called.
    pub custom: CustomToolCall,
    /// Fields this crate does not model, kept as received.
    pub extra: Map<String, Value>,
}

/// The custom tool that the model called.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomToolCall {
    /// The name of the custom tool to call.
    pub name: String,
    /// The input for the custom tool call generated by the model.
    pub input: String,
}

lenient_struct!(CustomToolCall {
    name: NullDefault<String>,
    input: NullDefault<String>,
}; skip_unknown);

lenient_struct!(ChatCompletionMessageCustomToolCall {
    id: NullDefault<String>,
    custom: NullDefault<CustomToolCall>,
}; drop "type");

impl Serialize for ChatCompletionMessageCustomToolCall {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_call(serializer, &self.id, "custom", &self.custom, &self.extra)
    }
}

#[cfg(test)]
// Tests may unwrap and index: a panic is the failure report.
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_choice_shapes() {
        let cases = [
            (ChatCompletionToolChoiceOption::none(), json!("none")),
            (ChatCompletionToolChoiceOption::auto(), json!("auto")),
            (
                ChatCompletionToolChoiceOption::required(),
                json!("required"),
            ),
            (
                ChatCompletionToolChoiceOption::function("f"),
                json!({"type": "function", "function": {"name": "f"}}),
            ),
            (
                ChatCompletionToolChoiceOption::custom("c"),
                json!({"type": "custom", "custom": {"name": "c"}}),
            ),
            (
                ChatCompletionToolChoiceOption::allowed_tools(
                    AllowedToolsMode::Required,
                    vec![json!({"type": "function", "function": {"name": "f"}})],
                ),
                json!({"type": "allowed_tools", "allowed_tools": {
                    "mode": "required",
                    "tools": [{"type": "function", "function": {"name": "f"}}]
                }}),
            ),
        ];
        for (choice, wire) in cases {
            assert_eq!(serde_json::to_value(&choice).unwrap(), wire);
            let back: ChatCompletionToolChoiceOption = serde_json::from_value(wire).unwrap();
            assert_eq!(back, choice);
        }
    }

    #[test]
    fn tool_choice_rejects_garbage() {
        for bad in [
            json!({"type": "function"}),
            json!({"type": "nope"}),
            json!({}),
            json!(3),
        ] {
            assert!(serde_json::from_value::<ChatCompletionToolChoiceOption>(bad).is_err());
        }
    }

    #[test]
    fn function_tool_call_round_trip_keeps_extra() {
        let wire = json!({
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "f", "arguments": "{}"},
            "extra_content": {"google": {"thought_signature": "x"}}
        });
        let call: ChatCompletionMessageToolCalls = serde_json::from_value(wire.clone()).unwrap();
        let ChatCompletionMessageToolCalls::Function(f) = &call else {
            unreachable!("expected a function call, got {call:?}")
        };
        assert_eq!(f.id, "call_1");
        assert_eq!(f.function.name, "f");
        assert_eq!(f.extra.get("index"), Some(&json!(0)));
        assert!(!f.extra.contains_key("type"));
        assert_eq!(serde_json::to_value(&call).unwrap(), wire);
    }

    #[test]
    fn missing_type_is_a_function_call() {
        let call: ChatCompletionMessageToolCalls =
            serde_json::from_value(json!({"id": "a", "function": {"name": "f", "arguments": ""}}))
                .unwrap();
        assert_eq!(call.as_function().unwrap().function.name, "f");
        // and it is serialized with its type
        assert_eq!(serde_json::to_value(&call).unwrap()["type"], "function");
        let call: ChatCompletionMessageToolCalls =
            serde_json::from_value(json!({"type": null, "function": {"name": "g"}})).unwrap();
        assert_eq!(call.as_function().unwrap().function.name, "g");
        assert_eq!(call.id(), Some(""));
    }

    #[test]
    fn malformed_function_call_is_an_error() {
        let r = serde_json::from_value::<ChatCompletionMessageToolCalls>(
            json!({"type": "function", "function": "oops"}),
        );
        assert!(r.is_err());
    }

    #[test]
    fn custom_and_unknown_tool_calls() {
        let wire =
            json!({"id": "c1", "type": "custom", "custom": {"name": "sql", "input": "SELECT 1"}});
        let call: ChatCompletionMessageToolCalls = serde_json::from_value(wire.clone()).unwrap();
        let ChatCompletionMessageToolCalls::Custom(c) = &call else {
            unreachable!("expected a custom call, got {call:?}")
        };
        assert_eq!(c.custom.input, "SELECT 1");
        assert_eq!(serde_json::to_value(&call).unwrap(), wire);

        // A `null` id of an unknown kind is dropped, so it is never sent back as `null`.
        let nulled: ChatCompletionMessageToolCalls =
            serde_json::from_value(json!({"id": null, "type": "mcp", "mcp": {}})).unwrap();
        assert_eq!(nulled.id(), None);
        assert_eq!(
            serde_json::to_value(&nulled).unwrap(),
            json!({"type": "mcp", "mcp": {}})
        );
        let wire = json!({"id": "m1", "type": "mcp", "mcp": {"server": "x"}});
        let call: ChatCompletionMessageToolCalls = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(call, ChatCompletionMessageToolCalls::Other(wire.clone()));
        assert_eq!(call.id(), Some("m1"));
        assert_eq!(serde_json::to_value(&call).unwrap(), wire);
    }

    #[test]
    fn function_call_option_shapes() {
        let v = ChatCompletionFunctionCallOption::from(FunctionCallMode::Auto);
        assert_eq!(serde_json::to_value(&v).unwrap(), json!("auto"));
        let v: ChatCompletionFunctionCallOption =
            serde_json::from_value(json!({"name": "f"})).unwrap();
        assert_eq!(
            v,
            ChatCompletionFunctionCallOption::Named { name: "f".into() }
        );
    }
}
