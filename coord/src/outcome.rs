//! How a call ended: the one vocabulary of outcomes every layer that records one speaks
//! (`#[track_performance]`, the error registry, the reports, the tower layer), and the rule that
//! classifies an HTTP status. A leaf: it imports nothing of coord.
//!
//! The rules, in one place:
//!
//! - a `Result` is a [`Success`](Outcome::Success) when `Ok`, a [`Failure`](Outcome::Failure)
//!   when `Err`;
//! - an HTTP response (`http::Response<B>`, axum's `Response`) is classified by its status with
//!   [`StatusRule`]: 5xx fail, everything else succeeds (a 404 is the client's problem, not the
//!   operation's), 429 as configured;
//! - a call whose final result is a gate's rejection (an open circuit breaker, a full bulkhead, a
//!   rate limit) is [`Rejected`](Outcome::Rejected): load shed by design, neither a success nor
//!   a failure, so it never counts in an error rate;
//! - a panic is a failure; an `async` call dropped before it finished is
//!   [`Cancelled`](Outcome::Cancelled);
//! - any other type is a success, unless the attribute names a classifier
//!   (`#[track_performance(outcome = path::to::classify)]`, a `fn(&T) -> coord::Outcome`).

named_enum! {
    /// How one call of an operation ended.
    // The declaration order is the index into `metrics_bridge::OUTCOMES`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Outcome {
        /// It did what was asked: `Ok`, a non-5xx response, or any value a classifier accepts.
        Success = "success",
        /// It failed: `Err`, a 5xx response, a panic, or what a classifier calls a failure.
        Failure = "failure",
        /// An `async` call whose future was dropped before it completed.
        Cancelled = "cancelled",
        /// A gate rejected it (open breaker, full bulkhead, rate limit): not counted as an error.
        Rejected = "rejected",
    }
}

impl Outcome {
    /// How a call dropped before it finished ended: a failure while its thread panics,
    /// `otherwise` when not (a guard's success, a cancelled future).
    #[inline]
    pub(crate) fn of_unfinished(otherwise: Outcome) -> Outcome {
        if std::thread::panicking() {
            Outcome::Failure
        } else {
            otherwise
        }
    }

    /// `true` for [`Outcome::Failure`].
    #[inline]
    pub fn is_failure(self) -> bool {
        self == Outcome::Failure
    }
}

/// How an HTTP status maps to an [`Outcome`]: 5xx is a failure, 4xx and every other status a
/// success, except 429 (Too Many Requests), whose outcome is configurable (a success by default
/// for a server's own handlers, since the client was asked to slow down; a client of a remote
/// service may prefer [`Outcome::Rejected`] or [`Outcome::Failure`]).
///
/// ```
/// use coord::{Outcome, StatusRule};
///
/// let rule = StatusRule::default();
/// assert_eq!(rule.classify(502), Outcome::Failure);
/// assert_eq!(rule.classify(404), Outcome::Success);
/// assert_eq!(rule.classify(429), Outcome::Success);
/// assert_eq!(rule.too_many_requests(Outcome::Rejected).classify(429), Outcome::Rejected);
/// assert_eq!(rule.client_errors(Outcome::Failure).classify(404), Outcome::Failure);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusRule {
    server_errors: Outcome,
    client_errors: Outcome,
    too_many_requests: Outcome,
}

impl Default for StatusRule {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl StatusRule {
    /// 5xx fail; 4xx (429 included) and everything else succeed.
    pub const DEFAULT: StatusRule = StatusRule {
        server_errors: Outcome::Failure,
        client_errors: Outcome::Success,
        too_many_requests: Outcome::Success,
    };

    /// The outcome of a 5xx status ([`Outcome::Failure`] by default).
    #[must_use]
    pub const fn server_errors(mut self, outcome: Outcome) -> Self {
        self.server_errors = outcome;
        self
    }

    /// The outcome of a 4xx status other than 429 ([`Outcome::Success`] by default).
    #[must_use]
    pub const fn client_errors(mut self, outcome: Outcome) -> Self {
        self.client_errors = outcome;
        self
    }

    /// The outcome of a 429 status ([`Outcome::Success`] by default).
    #[must_use]
    pub const fn too_many_requests(mut self, outcome: Outcome) -> Self {
        self.too_many_requests = outcome;
        self
    }

    /// The outcome of a response with status `status` (a number; values outside 100..=999 are
    /// successes, as no rule names them).
    #[inline]
    pub const fn classify(&self, status: u16) -> Outcome {
        match status {
            429 => self.too_many_requests,
            400..=499 => self.client_errors,
            500..=599 => self.server_errors,
            _ => Outcome::Success,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rule_fails_server_errors_only() {
        let rule = StatusRule::DEFAULT;
        for (status, outcome) in [
            (200, Outcome::Success),
            (302, Outcome::Success),
            (400, Outcome::Success),
            (404, Outcome::Success),
            (429, Outcome::Success),
            (500, Outcome::Failure),
            (502, Outcome::Failure),
            (599, Outcome::Failure),
            (600, Outcome::Success),
            (0, Outcome::Success),
        ] {
            assert_eq!(rule.classify(status), outcome, "status {status}");
        }
        let strict = rule
            .server_errors(Outcome::Failure)
            .too_many_requests(Outcome::Rejected)
            .client_errors(Outcome::Failure);
        assert_eq!(strict.classify(429), Outcome::Rejected);
        assert_eq!(strict.classify(418), Outcome::Failure);
    }
}
