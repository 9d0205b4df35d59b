//! [`Tool`]: a tool's definition for the model and the Rust function that runs it, its
//! types erased behind one signature (the arguments' JSON text in, the tool message out).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::types::{ChatCompletionTool, FunctionObject};

/// A tool's body with its types erased: the arguments' JSON text in, the tool message's
/// content or what went wrong out.
pub(super) type Run<'a> = dyn Fn(&str) -> Result<String, Failure> + Send + Sync + 'a;

/// A tool the model may call: its definition (name, description, parameters schema) and
/// the Rust function that runs it.
///
/// `'a` is what the function borrows: a tool without a [`timeout`](Tool::timeout) runs
/// on a scoped thread and may borrow from the caller's stack; a tool with one must own
/// what it uses (`Tool<'static>`), because a thread that overruns is left running.
pub struct Tool<'a> {
    definition: FunctionObject,
    pub(super) run: Arc<Run<'a>>,
    /// The longest the runner waits for the tool, for `Tool<'static>` only.
    pub(super) timeout: Option<(Duration, Arc<Run<'static>>)>,
}

impl<'a> Tool<'a> {
    /// A function tool: `name` and `description` for the model, and `function`, called
    /// with the arguments decoded into `Args`.
    ///
    /// What `function` returns goes to the model as the tool message: a string as it is,
    /// any other value as its JSON text. An `Err` goes as `error: <message>`, so the
    /// model can react. Arguments that do not decode into `Args` never reach `function`:
    /// the model is told what was wrong (empty arguments decode as `{}`).
    ///
    /// The parameters schema is not derived from `Args`: give it with
    /// [`parameters`](Tool::parameters), or, with the `schemars` feature, use
    /// `Tool::typed`, which generates a strict one.
    pub fn function<Args, R, E>(
        name: impl Into<String>,
        description: impl Into<String>,
        function: impl Fn(Args) -> Result<R, E> + Send + Sync + 'a,
    ) -> Tool<'a>
    where
        Args: DeserializeOwned,
        R: Serialize,
        E: fmt::Display,
    {
        let run = move |arguments: &str| -> Result<String, Failure> {
            let text = match arguments.trim() {
                "" => "{}",
                text => text,
            };
            let args: Args =
                serde_json::from_str(text).map_err(|e| Failure::Arguments(e.to_string()))?;
            match function(args) {
                Ok(output) => tool_text(&output),
                Err(e) => Err(Failure::Tool(e.to_string())),
            }
        };
        Tool {
            definition: FunctionObject::new(name).description(description),
            run: Arc::new(run),
            timeout: None,
        }
    }

    /// A function tool whose parameters schema is generated from `Args` (feature
    /// `schemars`) and made strict ([`schema::strict_schema_for`](crate::schema::strict_schema_for)),
    /// with `strict: true`; otherwise as [`function`](Tool::function).
    ///
    /// A constructor of its own rather than a schema that `function` would generate when
    /// the feature is on: a feature that added a bound to `function` would break code that
    /// compiles without it as soon as another crate in the build turned it on.
    ///
    /// # Errors
    ///
    /// A [`SchemaError`](crate::schema::SchemaError) naming the field of `Args` strict mode
    /// cannot express.
    ///
    /// ```
    /// use schemars::JsonSchema;
    /// use serde::Deserialize;
    /// use sync_openai::tools::Tool;
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct Search {
    ///     query: String,
    ///     limit: Option<u32>,
    /// }
    ///
    /// let tool = Tool::typed("search", "Search the docs", |s: Search| Ok::<_, String>(s.query))?;
    /// let function = serde_json::to_value(tool.definition())?["function"].clone();
    /// assert_eq!(function["strict"], true);
    /// assert_eq!(function["parameters"]["required"], serde_json::json!(["limit", "query"]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "schemars")]
    pub fn typed<Args, R, E>(
        name: impl Into<String>,
        description: impl Into<String>,
        function: impl Fn(Args) -> Result<R, E> + Send + Sync + 'a,
    ) -> Result<Tool<'a>, crate::schema::SchemaError>
    where
        Args: DeserializeOwned + schemars::JsonSchema,
        R: Serialize,
        E: fmt::Display,
    {
        let schema = crate::schema::strict_schema_for::<Args>()?;
        Ok(Tool::function(name, description, function)
            .parameters(schema)
            .strict(true))
    }

    /// The JSON Schema of the arguments, as the model should produce them. Defaults to
    /// none (the model sees a function without parameters).
    pub fn parameters(mut self, schema: Value) -> Tool<'a> {
        self.definition.parameters = Some(schema);
        self
    }

    /// Asks the model to follow the parameters schema exactly (OpenAI's strict mode: every
    /// object needs `additionalProperties: false` and all its properties required).
    /// Defaults to unset (the server's default, not strict).
    pub fn strict(mut self, strict: bool) -> Tool<'a> {
        self.definition.strict = Some(strict);
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// The definition sent to the model in the request's `tools`.
    pub fn definition(&self) -> ChatCompletionTool {
        ChatCompletionTool::from(self.definition.clone())
    }
}

impl Tool<'static> {
    /// The longest a round waits for this tool. A tool that overruns becomes a tool
    /// message saying it timed out, and the run goes on.
    ///
    /// A thread cannot be stopped from outside, so the tool is not stopped: it runs on a
    /// thread of its own (not a scoped one, which the round would have to wait for) that
    /// is left to finish, its result dropped. That is why only a tool that owns what it
    /// uses (`Tool<'static>`) can have a timeout. Defaults to none: the round waits for
    /// the tool however long it takes.
    pub fn timeout(mut self, timeout: Duration) -> Tool<'static> {
        self.timeout = Some((timeout, Arc::clone(&self.run)));
        self
    }
}

impl fmt::Debug for Tool<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("definition", &self.definition)
            .field("timeout", &self.timeout.as_ref().map(|(t, _)| t))
            .finish_non_exhaustive()
    }
}

/// What a tool's output becomes as a tool message: a string as it is, a value as JSON.
pub(super) fn tool_text(output: &impl Serialize) -> Result<String, Failure> {
    match serde_json::to_value(output) {
        Ok(Value::String(text)) => Ok(text),
        Ok(value) => Ok(value.to_string()),
        Err(e) => Err(Failure::Tool(format!("its result is not JSON: {e}"))),
    }
}

/// Why a tool gave no result.
#[derive(Debug)]
pub(super) enum Failure {
    Arguments(String),
    Tool(String),
}
