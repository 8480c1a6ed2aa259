//! Composition: where the mechanisms meet. The retry loop records into the error registry
//! ([`retry`]), the error report joins errors and breakers, and the monitor's health score counts
//! open breakers ([`health`]). The macros' one composed call lives beside this, in
//! `crate::stack`.
//!
//! Imports point down: to the mechanisms (`perf`, `retry`, `breaker`, `errors`, `validate`),
//! `stack` and the leaves; never to `report`, `config` or the doors.

pub(crate) mod error_report;
pub(crate) mod health;
pub(crate) mod objectives;
pub(crate) mod retry;
