//! Helpers shared by the integration tests: error types for guarded and layered operations, a
//! per-thread allocation counter, a view of validation errors, the retry tests' helpers and a raw HTTP client. Each test binary uses only some of them.
#![allow(dead_code)]

pub mod alloc;
pub mod chaos;
pub mod http;
pub mod retry;

use coord::{BulkheadFull, CircuitOpen, RateLimited, TimedOut, ValidationResult};

/// What a test's guarded dependency returns: its own failures, or the breaker's rejection
/// (the `From<CircuitOpen>` the `#[circuit_breaker]` attribute asks for).
#[derive(Debug, PartialEq)]
pub enum DbError {
    /// The dependency failed: counted by breakers and retried.
    Down,
    /// A failure a classifier may treat as the caller's, not the dependency's.
    NotFound,
    /// The breaker rejected the call without running it.
    Open(CircuitOpen),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Down => f.write_str("database down"),
            DbError::NotFound => f.write_str("not found"),
            DbError::Open(open) => write!(f, "{open}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<CircuitOpen> for DbError {
    fn from(open: CircuitOpen) -> Self {
        DbError::Open(open)
    }
}

/// What a test's function under several layers returns: its own failure, or the rejection of
/// the layer that answered (the `From` each attribute asks for).
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum LayerError {
    /// The function itself failed.
    #[error("upstream failed")]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
}

/// Each validation error's path and rule, in order: what most validation tests compare.
pub fn paths_and_rules(result: &ValidationResult) -> Vec<(&str, &str)> {
    result
        .errors
        .iter()
        .map(|e| (e.path.as_str(), e.rule.as_ref()))
        .collect()
}

/// Each validation error's path and rule as owned strings, for comparing with [`pairs`].
pub fn codes(result: &ValidationResult) -> Vec<(String, String)> {
    paths_and_rules(result)
        .into_iter()
        .map(|(path, rule)| (path.to_owned(), rule.to_owned()))
        .collect()
}

/// Expected `(path, rule)` pairs, owned.
pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(path, rule)| (path.to_string(), rule.to_string()))
        .collect()
}

/// Other tests in the same binary record thousands of failures concurrently; keep every record
/// so the ones a test inspects are not pushed out of the bounded `recent` list (the bound
/// itself is unit-tested in the crate).
pub fn keep_all_records() {
    coord::errors::set_recent_capacity(1 << 20);
}

/// The operation named `name` in a JSON report (`Report::to_json`, `/report.json`); panics
/// naming it when the report has none.
pub fn json_operation(report: &str, name: &str) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_str(report).unwrap();
    json["performance"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["name"] == name)
        .unwrap_or_else(|| panic!("no operation {name:?} in the JSON report"))
        .clone()
}
