//! The unit tests of `tools` (lints relaxed on the `mod tests;` line).

use super::runner::add_usage;
use super::tool::tool_text;
use super::*;

#[test]
fn outputs_become_tool_text() {
    assert_eq!(tool_text(&"plain").ok().as_deref(), Some("plain"));
    assert_eq!(
        tool_text(&serde_json::json!({"a": 1})).ok().as_deref(),
        Some(r#"{"a":1}"#)
    );
    assert_eq!(tool_text(&3).ok().as_deref(), Some("3"));
}

#[test]
fn usage_sums_over_rounds() {
    let mut sum = CompletionUsage::default();
    let round: CompletionUsage = serde_json::from_str(
        r#"{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"completion_tokens_details":{"reasoning_tokens":2}}"#,
    )
    .unwrap_or_default();
    add_usage(&mut sum, Some(&round));
    add_usage(&mut sum, None);
    add_usage(&mut sum, Some(&round));
    assert_eq!(
        (sum.prompt_tokens, sum.completion_tokens, sum.total_tokens),
        (20, 10, 30)
    );
    assert_eq!(sum.reasoning_tokens(), Some(4));
}

#[test]
fn tools_and_errors_are_send() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Tool<'static>>();
    send_sync::<ToolRunError>();
    send_sync::<ToolRun>();
}
