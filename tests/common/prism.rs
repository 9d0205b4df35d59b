//! Helpers of the Prism conformance runs (`tests/conformance*.rs`, `scripts/prism.sh`).

use std::collections::HashSet;
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sync_openai::{ApiResponse, ChatApi, Config, Error};

/// Dynamic bodies decoded per operation, unless `PRISM_DYNAMIC_PER_OPERATION` says otherwise.
pub const DYNAMIC_PER_OPERATION: usize = 200;

pub fn dynamic_per_operation() -> usize {
    std::env::var("PRISM_DYNAMIC_PER_OPERATION")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DYNAMIC_PER_OPERATION)
}

/// Prism's address, or `None` (and a note) when the conformance run is not set up.
pub fn prism_url(test: &str) -> Option<String> {
    match std::env::var("PRISM_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!("{test}: skipped: set PRISM_URL (scripts/prism.sh does)");
            None
        }
    }
}

/// A client for Prism. Prism requires the spec's bearer auth, so a dummy key is sent.
/// Retries are off: Prism's 500 for a streamed request must not be retried.
pub fn client(url: &str) -> ChatApi {
    ChatApi::new(
        Config::new()
            .api_key("sk-prism-dummy")
            .base_url(url)
            .max_retries(0),
    )
}

/// Prism's violation list from a 422 body, one line per violation.
pub fn violations(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return format!("    (body) {body}");
    };
    let Some(list) = v.get("validation").and_then(Value::as_array) else {
        return format!("    (body) {body}");
    };
    list.iter()
        .map(|item| {
            let at: Vec<String> = item["location"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "    {}: {}",
                at.join("."),
                item["message"].as_str().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Describes a failed call, with Prism's violations for a 422.
pub fn describe(err: &Error) -> String {
    match err {
        Error::Api(e) if e.status == 422 => {
            format!("HTTP 422, violations:\n{}", violations(&e.body))
        }
        Error::Api(e) => format!("HTTP {}: {}", e.status, e.body),
        Error::Decode(d) => format!(
            "decode failed: {} (line {}, column {}) near {:?}",
            d.message(),
            d.line(),
            d.column(),
            d.snippet()
        ),
        other => format!("{other}"),
    }
}

/// Tallies the request shapes sent and the ones Prism rejected.
#[derive(Default)]
pub struct Tally {
    pub validated: usize,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn check<T>(&mut self, what: &str, result: Result<ApiResponse<T>, Error>) {
        match result {
            Ok(resp) if (200..300).contains(&resp.status) => self.validated += 1,
            Ok(resp) => self
                .failures
                .push(format!("{what}: unexpected status {}", resp.status)),
            Err(e) => self.failures.push(format!("{what}: {}", describe(&e))),
        }
    }

    pub fn finish(self, what: &str) {
        println!(
            "{what}: {} request shapes validated by Prism",
            self.validated
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} {what} failed validation:\n{}",
            self.failures.len(),
            self.validated + self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// Checks `value` survives serialize → decode unchanged, as a response a user stores and
/// reloads must.
pub fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    value: &T,
) -> Result<(), String> {
    let json = serde_json::to_string(value).map_err(|e| format!("re-serialize: {e}"))?;
    let back: T = serde_json::from_str(&json).map_err(|e| format!("re-decode: {e} in {json}"))?;
    if &back == value {
        Ok(())
    } else {
        Err(format!(
            "round trip changed the value:\n{value:?}\n{back:?}"
        ))
    }
}

/// Decodes `n` dynamic bodies of one operation and checks each; returns how many passed and
/// the failures.
pub fn decode_many<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    operation: &str,
    n: usize,
    mut call: impl FnMut() -> Result<T, Error>,
    check: impl Fn(&T) -> Result<(), String>,
) -> (usize, Vec<String>) {
    let mut ok = 0;
    let mut failures = Vec::new();
    let mut distinct = HashSet::new();
    for i in 0..n {
        let result = call().map_err(|e| describe(&e)).and_then(|v| {
            check(&v)?;
            round_trips(&v)?;
            distinct.insert(serde_json::to_string(&v).unwrap_or_default());
            Ok(())
        });
        match result {
            Ok(()) => ok += 1,
            Err(e) => failures.push(format!("{operation} #{i}: {e}")),
        }
    }
    // Static answers would all be the same body: make sure these were generated.
    if distinct.len() < n / 2 {
        failures.push(format!(
            "{operation}: only {} distinct bodies in {n}: is Prism answering `Prefer: dynamic=true`?",
            distinct.len()
        ));
    }
    println!(
        "{operation}: {ok} of {n} dynamic bodies decoded and checked ({} distinct)",
        distinct.len()
    );
    (ok, failures)
}
