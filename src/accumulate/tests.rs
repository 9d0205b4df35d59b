//! The unit tests of `accumulate` (lints relaxed on the `mod tests;` line).

use super::*;
use serde_json::json;

#[test]
fn fragment_values_merge() {
    let mut m = Map::new();
    for (k, v) in [
        ("reasoning_content", json!("a")),
        ("reasoning_content", json!("b")),
        ("reasoning_content", Value::Null),
        ("details", json!([1])),
        ("details", json!([2])),
        ("n", json!(1)),
        ("n", json!(2)),
        ("o", json!({"t": "x", "k": 1})),
        ("o", json!({"t": "y", "k": 2, "new": null})),
        ("z", Value::Null),
    ] {
        merge_fragment(&mut m, k.into(), v);
    }
    assert_eq!(
        Value::Object(m),
        json!({"reasoning_content": "ab", "details": [1, 2], "n": 2,
               "o": {"t": "xy", "k": 2, "new": null}, "z": null})
    );
}

/// Arguments objects with the shapes that could fool the resend rule: nested and
/// empty objects, `}{` and braces inside strings, whitespace, unicode.
const OBJECTS: &[&str] = &[
    r#"{"a":1}"#,
    r#"{}"#,
    r#"{"a":{}}"#,
    r#"{"a":{},"b":{"c":{}}}"#,
    r#"{"q":"}{","r":"{\"x\":1}"}"#,
    r#" { "a" : [ {}, {"b": 2} ] } "#,
    "{\"é😀\":\"ü\"}\n",
];

fn joined(fragments: &[&str]) -> String {
    let mut acc = String::new();
    for fragment in fragments {
        merge_arguments(&mut acc, fragment);
    }
    acc
}

/// Property: every split of a valid arguments object into up to three fragments
/// (empty ones included) joins back to the object.
#[test]
fn any_split_of_an_object_joins_to_it() {
    for object in OBJECTS {
        let cuts: Vec<usize> = (0..=object.len())
            .filter(|&i| object.is_char_boundary(i))
            .collect();
        for &a in &cuts {
            for &b in cuts.iter().filter(|&&b| b >= a) {
                let pieces = [&object[..a], &object[a..b], &object[b..]];
                assert_eq!(joined(&pieces), *object, "{pieces:?}");
            }
        }
    }
}

#[test]
fn a_whole_object_sent_again_is_kept_once() {
    // Resent after its fragments, whitespace and key order aside.
    let resent = joined(&[
        r#"{"city":"#,
        r#""Paris","n":2}"#,
        r#"{ "n": 2, "city": "Paris" }"#,
    ]);
    assert_eq!(resent, r#"{"city":"Paris","n":2}"#);
    // Whole in every delta.
    let every = joined(&[r#"{"a":1}"#, r#"{"a":1}"#, r#"{"a":1}"#]);
    assert_eq!(every, r#"{"a":1}"#);
    // `{}` first, then the real arguments in fragments (litellm #4537).
    assert_eq!(joined(&["{}", r#"{"a":"#, "1}"]), r#"{"a":1}"#);
    // A `{}` fragment inside an object, and whitespace after one, are plain fragments.
    assert_eq!(joined(&[r#"{"a":"#, "{}", "}"]), r#"{"a":{}}"#);
    assert_eq!(joined(&[r#"{"a":1}"#, " ", "\n"]), "{\"a\":1} \n");
    // A different whole object is kept as received: which was meant is unknown.
    assert_eq!(
        joined(&[r#"{"q":"A"}"#, r#"{"q":"B"}"#]),
        r#"{"q":"A"}{"q":"B"}"#
    );
}

#[test]
fn metadata_values_merge() {
    let mut m = Map::new();
    for (k, v) in [
        ("x_groq", json!({"id": "req_1"})),
        (
            "x_groq",
            json!({"id": "req_1", "usage": {"queue_time": 0.1}}),
        ),
        ("citations", json!(["a", "b"])),
        ("citations", json!(["a", "b"])),
        ("severity", json!("safe")),
        ("severity", json!("safe")),
        ("severity", Value::Null),
    ] {
        merge_metadata(&mut m, k.into(), v);
    }
    assert_eq!(
        Value::Object(m),
        json!({"x_groq": {"id": "req_1", "usage": {"queue_time": 0.1}},
               "citations": ["a", "b"], "severity": "safe"})
    );
}
