//! Partial JSON: the value a JSON text received so far will become, for progress displays
//! of streamed tool-call arguments and structured outputs. Pure: std and serde_json only.
//!
//! The parser is iterative (a stack of open containers, no recursion) and refuses nesting
//! deeper than [`MAX_DEPTH`], as serde_json does, so neither parsing nor dropping the value
//! can exhaust the stack.

use std::fmt;

use serde_json::{Map, Number, Value};

/// The deepest nesting of arrays and objects [`parse_partial_json`] accepts: serde_json's
/// own recursion limit (it reads one level less), so every document serde_json reads is
/// read here too.
pub(crate) const MAX_DEPTH: usize = 128;

/// Why a text is not the beginning of a JSON document; see [`parse_partial_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialJsonError {
    offset: usize,
    kind: PartialJsonErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartialJsonErrorKind {
    /// A byte no JSON document can have there.
    Unexpected,
    /// Nesting deeper than `MAX_DEPTH`.
    TooDeep,
}

impl PartialJsonError {
    /// The byte offset in the text where it stopped being JSON.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether the text nests deeper than 128 levels (else it is simply not JSON).
    pub fn is_too_deep(&self) -> bool {
        self.kind == PartialJsonErrorKind::TooDeep
    }
}

impl fmt::Display for PartialJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PartialJsonErrorKind::Unexpected => write!(
                f,
                "the text is not the beginning of a JSON document (at byte {})",
                self.offset
            ),
            PartialJsonErrorKind::TooDeep => write!(
                f,
                "the JSON nests deeper than {MAX_DEPTH} levels (at byte {})",
                self.offset
            ),
        }
    }
}

impl std::error::Error for PartialJsonError {}

/// The value a JSON text received so far will become: an unfinished string, array or
/// object is closed where the text stops.
///
/// * an unfinished string keeps what it has (a half escape sequence is left out);
/// * an unfinished array or object keeps its finished items, and the unfinished last one
///   as far as it goes; an object key without its value yet is left out;
/// * a number keeps what is a number so far (`12.` is `12`, `-` and `1e` are `-`-less:
///   nothing and `1`); a started `true`, `false` or `null` is that literal;
/// * a whole document gives exactly what [`serde_json::from_str`] gives.
///
/// `Ok(None)` when there is no value yet (an empty text, blanks, a lone `-`).
///
/// # Errors
///
/// A [`PartialJsonError`] when no JSON document starts with `text`, or when it nests deeper
/// than 128 levels (serde_json's limit; the parser does not recurse, so depth costs no
/// stack).
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use sync_openai::stream::parse_partial_json;
///
/// let so_far = r#"{"city": "Par"#;
/// assert_eq!(parse_partial_json(so_far)?, Some(json!({"city": "Par"})));
/// assert_eq!(parse_partial_json(r#"{"cities": ["Paris", "Ly"#)?, Some(json!({"cities": ["Paris", "Ly"]})));
/// assert_eq!(parse_partial_json(r#"{"city": "Paris", "da"#)?, Some(json!({"city": "Paris"})));
/// assert_eq!(parse_partial_json("")?, None);
/// assert!(parse_partial_json("{]").is_err());
/// # Ok::<(), sync_openai::stream::PartialJsonError>(())
/// ```
pub fn parse_partial_json(text: &str) -> Result<Option<Value>, PartialJsonError> {
    Parser {
        text,
        pos: 0,
        stack: Vec::new(),
        result: None,
    }
    .run()
}

/// An open container.
enum Frame {
    Array(Vec<Value>),
    /// The object so far and the key whose value comes next.
    Object(Map<String, Value>, Option<String>),
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    stack: Vec<Frame>,
    /// The finished top-level value.
    result: Option<Value>,
}

/// What the parser expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (at the top, after `[`, `,` in an array, or `:`).
    Value,
    /// A value or `]` (right after `[`).
    ValueOrClose,
    /// A key or `}` (right after `{`).
    KeyOrClose,
    /// A key (after `,` in an object).
    Key,
    /// `:` after a key.
    Colon,
    /// `,` or the closing bracket, after an item.
    CommaOrClose,
    /// Only blanks: the top-level value is finished.
    End,
}

impl Parser<'_> {
    fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn error(&self, kind: PartialJsonErrorKind) -> PartialJsonError {
        PartialJsonError {
            offset: self.pos,
            kind,
        }
    }

    fn unexpected(&self) -> PartialJsonError {
        self.error(PartialJsonErrorKind::Unexpected)
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn run(mut self) -> Result<Option<Value>, PartialJsonError> {
        let mut expect = Expect::Value;
        loop {
            self.skip_blanks();
            let Some(byte) = self.peek() else {
                return Ok(self.close_all());
            };
            expect = match expect {
                Expect::Value | Expect::ValueOrClose => self.on_value(byte, expect)?,
                Expect::KeyOrClose | Expect::Key => self.on_key(byte, expect)?,
                Expect::Colon if byte == b':' => {
                    self.pos += 1;
                    Expect::Value
                }
                Expect::CommaOrClose => self.on_comma_or_close(byte)?,
                Expect::Colon | Expect::End => return Err(self.unexpected()),
            };
        }
    }

    /// A value starts at `byte` (or, after `[`, the array closes).
    fn on_value(&mut self, byte: u8, expect: Expect) -> Result<Expect, PartialJsonError> {
        match byte {
            b']' if expect == Expect::ValueOrClose => self.on_comma_or_close(byte),
            b'[' | b'{' => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.error(PartialJsonErrorKind::TooDeep));
                }
                self.pos += 1;
                if byte == b'[' {
                    self.stack.push(Frame::Array(Vec::new()));
                    Ok(Expect::ValueOrClose)
                } else {
                    self.stack.push(Frame::Object(Map::new(), None));
                    Ok(Expect::KeyOrClose)
                }
            }
            b'"' => match self.string()? {
                (text, true) => Ok(self.finished(Value::String(text))),
                (text, false) => {
                    self.put(Value::String(text));
                    Ok(Expect::End)
                }
            },
            b't' | b'f' | b'n' => self.literal(),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.unexpected()),
        }
    }

    /// A key starts at `byte` (or, after `{`, the object closes).
    fn on_key(&mut self, byte: u8, expect: Expect) -> Result<Expect, PartialJsonError> {
        match byte {
            b'}' if expect == Expect::KeyOrClose => self.on_comma_or_close(byte),
            b'"' => {
                let (key, whole) = self.string()?;
                if let Some(Frame::Object(_, pending)) = self.stack.last_mut() {
                    // A key cut short is dropped at the end, like any key without a value.
                    *pending = Some(key);
                }
                Ok(if whole { Expect::Colon } else { Expect::End })
            }
            _ => Err(self.unexpected()),
        }
    }

    fn on_comma_or_close(&mut self, byte: u8) -> Result<Expect, PartialJsonError> {
        match (byte, self.stack.last()) {
            (b',', Some(Frame::Array(_))) => {
                self.pos += 1;
                Ok(Expect::Value)
            }
            (b',', Some(Frame::Object(..))) => {
                self.pos += 1;
                Ok(Expect::Key)
            }
            (b']', Some(Frame::Array(_))) | (b'}', Some(Frame::Object(..))) => {
                self.pos += 1;
                let value = match self.stack.pop() {
                    Some(Frame::Array(items)) => Value::Array(items),
                    Some(Frame::Object(map, _)) => Value::Object(map),
                    None => return Err(self.unexpected()),
                };
                Ok(self.finished(value))
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A whole value: into its container, or the top-level result.
    fn finished(&mut self, value: Value) -> Expect {
        self.put(value);
        match self.stack.is_empty() {
            true => Expect::End,
            false => Expect::CommaOrClose,
        }
    }

    /// Puts a value where it belongs: the open container, or the result.
    fn put(&mut self, value: Value) {
        match self.stack.last_mut() {
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Object(map, pending)) => {
                if let Some(key) = pending.take() {
                    map.insert(key, value);
                }
            }
            None => self.result = Some(value),
        }
    }

    /// The text ends: closes every open container (a key still waiting for its value is
    /// left out).
    fn close_all(mut self) -> Option<Value> {
        while let Some(frame) = self.stack.pop() {
            let value = match frame {
                Frame::Array(items) => Value::Array(items),
                Frame::Object(map, _) => Value::Object(map),
            };
            self.put(value);
        }
        self.result
    }

    /// A string from its opening quote: its text, and whether its closing quote came (if
    /// not, the whole text has been read).
    fn string(&mut self) -> Result<(String, bool), PartialJsonError> {
        let (text, whole) = self.string_body()?;
        if !whole {
            self.pos = self.text.len();
        }
        Ok((text, whole))
    }

    fn string_body(&mut self) -> Result<(String, bool), PartialJsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..).unwrap_or_default();
            let stop = rest.find(['"', '\\']).unwrap_or(rest.len());
            let plain = rest.get(..stop).unwrap_or_default();
            if plain.bytes().any(|b| b < 0x20) {
                return Err(self.unexpected());
            }
            out.push_str(plain);
            self.pos += stop;
            match self.peek() {
                None => return Ok((out, false)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok((out, true));
                }
                _ => match self.escape()? {
                    Some(c) => out.push(c),
                    None => return Ok((out, false)),
                },
            }
        }
    }

    /// An escape sequence from its backslash; `None` when the text ends inside it.
    fn escape(&mut self) -> Result<Option<char>, PartialJsonError> {
        let Some(&kind) = self.bytes().get(self.pos + 1) else {
            return Ok(None);
        };
        let simple = match kind {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'u' => None,
            _ => {
                self.pos += 1;
                return Err(self.unexpected());
            }
        };
        if let Some(c) = simple {
            self.pos += 2;
            return Ok(Some(c));
        }
        let start = self.pos;
        let Some(first) = self.hex4(start + 2)? else {
            return Ok(None);
        };
        if !(0xD800..0xDC00).contains(&first) {
            self.pos = start + 6;
            // A lone low surrogate: serde_json refuses it too.
            return char::from_u32(first)
                .map(Some)
                .ok_or_else(|| self.unexpected());
        }
        // A high surrogate needs `\uDC00`-`\uDFFF` after it.
        match (self.bytes().get(start + 6), self.bytes().get(start + 7)) {
            (None, _) | (Some(b'\\'), None) => return Ok(None),
            (Some(b'\\'), Some(b'u')) => {}
            _ => {
                self.pos = start + 6;
                return Err(self.unexpected());
            }
        }
        let Some(second) = self.hex4(start + 8)? else {
            return Ok(None);
        };
        if !(0xDC00..0xE000).contains(&second) {
            self.pos = start + 8;
            return Err(self.unexpected());
        }
        self.pos = start + 12;
        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
        Ok(char::from_u32(code))
    }

    /// Four hex digits at `at`; `None` when the text ends first.
    fn hex4(&mut self, at: usize) -> Result<Option<u32>, PartialJsonError> {
        let mut code = 0u32;
        for i in at..at + 4 {
            let Some(&b) = self.bytes().get(i) else {
                return Ok(None);
            };
            let Some(digit) = char::from(b).to_digit(16) else {
                self.pos = i;
                return Err(self.unexpected());
            };
            code = code * 16 + digit;
        }
        Ok(Some(code))
    }

    /// `true`, `false` or `null`, or the start of one where the text ends.
    fn literal(&mut self) -> Result<Expect, PartialJsonError> {
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        for (word, value) in [
            (&b"true"[..], Value::Bool(true)),
            (b"false", Value::Bool(false)),
            (b"null", Value::Null),
        ] {
            let n = rest.len().min(word.len());
            if rest.first() != word.first() {
                continue;
            }
            if rest.get(..n) != word.get(..n) {
                return Err(self.unexpected());
            }
            self.pos += n;
            return Ok(match n == word.len() {
                true => self.finished(value),
                false => {
                    self.put(value);
                    Expect::End
                }
            });
        }
        Err(self.unexpected())
    }

    /// A number: its longest prefix that is a number is kept while the text may go on.
    fn number(&mut self) -> Result<Expect, PartialJsonError> {
        let start = self.pos;
        let rest = self.bytes().get(start..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(rest.len());
        self.pos = start + len;
        let at_end = self.pos == self.text.len();
        let text = self.text.get(start..start + len).unwrap_or_default();
        let text = match at_end {
            // The number may go on: drop what is not a number yet (`-`, `1.`, `1e`, `1e-`).
            true => text.trim_end_matches(['-', '+', '.', 'e', 'E']),
            false => text,
        };
        if text.is_empty() && at_end {
            return Ok(Expect::End);
        }
        let value = serde_json::from_str::<Number>(text)
            .map(Value::Number)
            .map_err(|_| PartialJsonError {
                offset: start,
                kind: PartialJsonErrorKind::Unexpected,
            })?;
        Ok(match at_end {
            true => {
                self.put(value);
                Expect::End
            }
            false => self.finished(value),
        })
    }
}

#[cfg(test)]
mod tests {
    // Tests assert on known-good values; a panic is the failure report.
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn p(text: &str) -> Option<Value> {
        parse_partial_json(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn unfinished_values_close_where_they_stop() {
        assert_eq!(p(""), None);
        assert_eq!(p("  "), None);
        assert_eq!(p("{"), Some(json!({})));
        assert_eq!(p("["), Some(json!([])));
        assert_eq!(p(r#"{"a"#), Some(json!({})));
        assert_eq!(p(r#"{"a":"#), Some(json!({})));
        assert_eq!(p(r#"{"a": "b"#), Some(json!({"a": "b"})));
        assert_eq!(p(r#"{"a": "b", "#), Some(json!({"a": "b"})));
        assert_eq!(p(r#"{"a": [1, 2"#), Some(json!({"a": [1, 2]})));
        assert_eq!(p(r#"{"a": [1, 2,"#), Some(json!({"a": [1, 2]})));
        assert_eq!(p(r#"{"a": {"b": tr"#), Some(json!({"a": {"b": true}})));
        assert_eq!(p(r#"[nu"#), Some(json!([null])));
        assert_eq!(p(r#"[f"#), Some(json!([false])));
        assert_eq!(p("-"), None);
        assert_eq!(p("[-"), Some(json!([])));
        assert_eq!(p("[1."), Some(json!([1])));
        assert_eq!(p("1.5e"), Some(json!(1.5)));
        assert_eq!(p("1.5e-"), Some(json!(1.5)));
        assert_eq!(p(r#""ab\"#), Some(json!("ab")));
        assert_eq!(p(r#""ab\u00"#), Some(json!("ab")));
        assert_eq!(p(r#""ab\u00e9"#), Some(json!("abé")));
        assert_eq!(p(r#""\ud83d"#), Some(json!("")));
        assert_eq!(p(r#""\ud83d\"#), Some(json!("")));
        assert_eq!(p(r#""\ud83d\ude00"#), Some(json!("😀")));
    }

    #[test]
    fn what_is_not_json_is_refused_with_where() {
        for (text, offset) in [
            ("{]", 1),
            ("[1 2", 3),
            ("tx", 0),
            ("{\"a\" 1", 5),
            ("1 2", 2),
            ("\"\\x\"", 2),
            ("\"a\nb\"", 1),
            ("[1,]", 3),
            ("01", 0),
            ("--1", 0),
        ] {
            let e = parse_partial_json(text).unwrap_err();
            assert_eq!(e.offset(), offset, "{text:?}: {e}");
            assert!(!e.is_too_deep());
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        let e = parse_partial_json(&deep).unwrap_err();
        assert!(e.is_too_deep());
        assert_eq!(e.offset(), MAX_DEPTH);
        assert!(e.to_string().contains("deeper than 128"), "{e}");
        // serde_json reads 127 levels.
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert_eq!(p(&ok), Some(serde_json::from_str(&ok).unwrap()));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(p(&ok).is_some());
    }

    /// SplitMix64: a small deterministic source of randomness.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const PIECES: [&str; 12] = [
        "a",
        "é",
        "😀",
        "\\n",
        "\\\"",
        "\\u00e9",
        "\\ud83d\\ude00",
        "\\\\",
        " ",
        "\\/",
        "x1",
        "\\t",
    ];
    const NUMBERS: [&str; 10] = [
        "0",
        "-0",
        "12",
        "-3.25",
        "1e5",
        "2.5E-3",
        "1e+2",
        "18446744073709551616",
        "-7",
        "0.1",
    ];

    /// A random JSON text with random blanks between its tokens.
    fn document(rng: &mut Rng, depth: u32, out: &mut String) {
        let blank = |rng: &mut Rng, out: &mut String| {
            if rng.below(4) == 0 {
                out.push_str([" ", "\n", "\t ", "\r\n"][rng.below(4) as usize]);
            }
        };
        blank(rng, out);
        let kind = if depth > 4 {
            rng.below(4)
        } else {
            rng.below(6)
        };
        match kind {
            0 => out.push_str(["true", "false", "null"][rng.below(3) as usize]),
            1 => out.push_str(NUMBERS[rng.below(NUMBERS.len() as u64) as usize]),
            2 | 3 => {
                out.push('"');
                for _ in 0..rng.below(5) {
                    out.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
                }
                out.push('"');
            }
            4 => {
                out.push('[');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    document(rng, depth + 1, out);
                }
                blank(rng, out);
                out.push(']');
            }
            _ => {
                out.push('{');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    blank(rng, out);
                    out.push_str(&format!("\"k{}\"", rng.below(6)));
                    blank(rng, out);
                    out.push(':');
                    document(rng, depth + 1, out);
                }
                blank(rng, out);
                out.push('}');
            }
        }
        blank(rng, out);
    }

    /// Every prefix of every document parses, and the whole document parses to what
    /// serde_json reads.
    #[test]
    fn every_prefix_of_every_document_parses() {
        let mut rng = Rng(0x5eed);
        let mut prefixes = 0usize;
        for case in 0..3000 {
            let mut text = String::new();
            document(&mut rng, 0, &mut text);
            let want: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(p(&text), Some(want), "case {case}: {text}");
            for (end, _) in text.char_indices() {
                let prefix = &text[..end];
                if let Err(e) = parse_partial_json(prefix) {
                    panic!("case {case}: prefix {prefix:?} of {text:?}: {e}");
                }
                prefixes += 1;
            }
        }
        assert!(prefixes > 30_000, "{prefixes}");
    }

    /// A prefix's value grows toward the whole one: its strings are prefixes of the whole
    /// strings, so a progress display never shows text that later disappears.
    #[test]
    fn prefixes_of_a_string_grow() {
        let text = r#""caf\u00e9 \ud83d\ude00 ok""#;
        let whole = p(text).unwrap();
        let whole = whole.as_str().unwrap();
        for (end, _) in text.char_indices() {
            if let Some(Value::String(s)) = p(&text[..end]) {
                assert!(whole.starts_with(&s), "{s:?}");
            }
        }
    }
}
