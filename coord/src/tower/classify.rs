//! How HTTP outcomes count, in one place (the lead may swap it for the crate-wide outcome
//! vocabulary): which statuses are failures, and the response a server answers a rejection
//! with.

use std::time::Duration;

use http::{HeaderValue, Response, header};

use super::Error;
use crate::outcome::{Outcome, StatusRule};

/// The layer's default rule, the crate's [`StatusRule`] with 429 a failure too: a dependency
/// answering "too many requests" could not serve the request, so the breaker and the retries
/// count it (a function's own `#[track_performance]` counts a 429 it answers as a success).
pub const DEFAULT_STATUS_RULE: StatusRule = StatusRule::DEFAULT.too_many_requests(Outcome::Failure);

/// How a response counts: the status it counts as (its own, or a gRPC answer's code as its
/// HTTP equivalent) and, for a gRPC error, the error's name (`"gRPC UNAVAILABLE"`), so that what
/// a failure is remembered and marked by is what was sent. A gRPC answer is an HTTP 200 with a
/// `grpc-status` header (tonic's trailers-only response, which every error returned before the
/// first message is); its header is read once when the stack classifies the response, and once
/// more when the layer observes it (its span and HTTP duration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Counted {
    /// The status the response counts as.
    pub(super) status: u16,
    /// A gRPC answer's code as read (`None` inside: unreadable); kept small, as it travels
    /// with every failed response.
    grpc: Option<Option<u8>>,
}

impl Counted {
    /// How a response counts by its own status, with the gRPC code (if any) of `of`.
    pub(super) fn own_status<B>(of: &Response<B>) -> Self {
        Self {
            status: of.status().as_u16(),
            ..counted(of)
        }
    }

    /// The gRPC error the response carries, by name; `None` for any other response and for
    /// `OK`.
    pub(super) fn grpc_error(&self) -> Option<&'static str> {
        self.grpc.and_then(grpc_name)
    }
}

/// How `response` counts.
#[inline]
pub(super) fn counted<B>(response: &Response<B>) -> Counted {
    let status = response.status().as_u16();
    match response.headers().get(GRPC_STATUS) {
        Some(code) if status == 200 => {
            let code = std::str::from_utf8(code.as_bytes())
                .ok()
                .and_then(|code| code.trim().parse::<u8>().ok());
            Counted {
                status: grpc_as_http(code),
                grpc: Some(code),
            }
        }
        _ => Counted { status, grpc: None },
    }
}

/// How `response` counts when `rule` makes it a failure (for the breaker, the retries and the
/// error rate); any other outcome the rule gives counts as a success here. A gRPC answer is
/// judged by its code's HTTP equivalent, so `UNAVAILABLE` fails as a 503 would and `NOT_FOUND`
/// succeeds as a 404 would.
#[inline]
pub(super) fn failed_status<B>(rule: &StatusRule, response: &Response<B>) -> Option<Counted> {
    let counted = counted(response);
    (rule.classify(counted.status) == Outcome::Failure).then_some(counted)
}

const GRPC_STATUS: &str = "grpc-status";

/// A gRPC error by name; `None` for `OK`.
fn grpc_name(code: Option<u8>) -> Option<&'static str> {
    Some(match code {
        Some(0) => return None,
        Some(1) => "gRPC CANCELLED",
        Some(2) => "gRPC UNKNOWN",
        Some(3) => "gRPC INVALID_ARGUMENT",
        Some(4) => "gRPC DEADLINE_EXCEEDED",
        Some(5) => "gRPC NOT_FOUND",
        Some(6) => "gRPC ALREADY_EXISTS",
        Some(7) => "gRPC PERMISSION_DENIED",
        Some(8) => "gRPC RESOURCE_EXHAUSTED",
        Some(9) => "gRPC FAILED_PRECONDITION",
        Some(10) => "gRPC ABORTED",
        Some(11) => "gRPC OUT_OF_RANGE",
        Some(12) => "gRPC UNIMPLEMENTED",
        Some(13) => "gRPC INTERNAL",
        Some(14) => "gRPC UNAVAILABLE",
        Some(15) => "gRPC DATA_LOSS",
        Some(16) => "gRPC UNAUTHENTICATED",
        _ => "gRPC status unreadable",
    })
}

/// A gRPC status code's HTTP equivalent (the table of gRPC's HTTP/JSON transcoding, as
/// grpc-gateway uses it); an unreadable or unknown code is a 500.
fn grpc_as_http(code: Option<u8>) -> u16 {
    match code {
        Some(0) => 200,          // OK
        Some(1) => 499,          // CANCELLED: the client gave up
        Some(3 | 9 | 11) => 400, // INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE
        Some(4) => 504,          // DEADLINE_EXCEEDED
        Some(5) => 404,          // NOT_FOUND
        Some(6 | 10) => 409,     // ALREADY_EXISTS, ABORTED
        Some(7) => 403,          // PERMISSION_DENIED
        Some(8) => 429,          // RESOURCE_EXHAUSTED
        Some(12) => 501,         // UNIMPLEMENTED
        Some(14) => 503,         // UNAVAILABLE
        Some(16) => 401,         // UNAUTHENTICATED
        _ => 500,                // UNKNOWN, INTERNAL, DATA_LOSS, anything else
    }
}

/// A response's `Retry-After`: seconds (`Retry-After: 120`) or an HTTP-date (`Wed, 21 Oct
/// 2015 07:28:00 GMT`, any of the three forms RFC 9110 has recipients accept), as the wait
/// from now; a date already past is no wait. Anything else is ignored.
pub(super) fn retry_after<B>(response: &Response<B>) -> Option<Duration> {
    let value = response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The response a server answers a rejection or a time-out with (see [`Error::refusal`]): 429
/// for a rate limit, 503 otherwise, with `Retry-After` in whole seconds (rounded up) when the
/// layer knows when to come back. The inner service's own error stays an error.
pub(super) fn rejection_response<B: Default, E>(error: Error<E>) -> Result<Response<B>, E> {
    let refusal = match error.refusal() {
        Some(refusal) => refusal,
        None => match error {
            Error::Inner(error) => return Err(error),
            _ => unreachable!("only the inner error has no refusal"),
        },
    };
    let mut response = Response::new(B::default());
    *response.status_mut() = refusal.status;
    if let Some(seconds) = refusal.retry_after.and_then(retry_after_seconds) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// `Retry-After` seconds for a wait: rounded up, at least 1; `None` for a breaker forced open
/// (`Duration::MAX`), which has no time to come back at.
fn retry_after_seconds(wait: Duration) -> Option<u64> {
    if wait == Duration::MAX {
        return None;
    }
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Some(whole.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn statuses() {
        let failed = |status: u16| {
            let mut response = Response::new(());
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            failed_status(&DEFAULT_STATUS_RULE, &response).map(|counted| counted.status)
        };
        for status in [500, 503, 429] {
            assert_eq!(failed(status), Some(status));
        }
        for status in [404, 400, 200, 302] {
            assert_eq!(failed(status), None);
        }
        let lenient = DEFAULT_STATUS_RULE.too_many_requests(Outcome::Success);
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(failed_status(&lenient, &response), None);
    }

    #[test]
    fn grpc_codes_count_as_their_http_equivalents() {
        let failed = |rule: &StatusRule, code: &str| {
            let mut response = Response::new(());
            response
                .headers_mut()
                .insert(GRPC_STATUS, HeaderValue::from_str(code).unwrap());
            failed_status(rule, &response).map(|counted| counted.status)
        };
        for (code, status) in [("14", 503), ("13", 500), ("2", 500), ("4", 504), ("x", 500)] {
            assert_eq!(failed(&StatusRule::DEFAULT, code), Some(status), "{code}");
        }
        for code in ["0", "1", "3", "5", "7", "16"] {
            assert_eq!(failed(&StatusRule::DEFAULT, code), None, "{code}");
        }
        // What a gRPC failure is remembered by: the error sent, not its HTTP equivalent.
        let named = |code: &str| {
            let mut response = Response::new(());
            response
                .headers_mut()
                .insert(GRPC_STATUS, HeaderValue::from_str(code).unwrap());
            counted(&response).grpc_error()
        };
        assert_eq!(named("14"), Some("gRPC UNAVAILABLE"));
        assert_eq!(named("x"), Some("gRPC status unreadable"));
        assert_eq!(named("0"), None);
        // RESOURCE_EXHAUSTED is a client's failure (429), a server's own answer.
        assert_eq!(failed(&DEFAULT_STATUS_RULE, "8"), Some(429));
        assert_eq!(failed(&StatusRule::DEFAULT, "8"), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let with = |value: &str| {
            let mut response = Response::new(());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_str(value).unwrap());
            retry_after(&response)
        };
        assert_eq!(with("120"), Some(Duration::from_secs(120)));
        assert_eq!(with(" 3 "), Some(Duration::from_secs(3)));
        // A date past is no wait; one ahead is the time until it (whole seconds on the wire).
        assert_eq!(with("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(
            with("Wednesday, 21-Oct-15 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let ahead = std::time::SystemTime::now() + Duration::from_secs(90);
        let wait = with(&httpdate::fmt_http_date(ahead)).unwrap();
        assert!(
            (Duration::from_secs(88)..=Duration::from_secs(90)).contains(&wait),
            "{wait:?}"
        );
        assert_eq!(with("-1"), None);
        assert_eq!(with("soon"), None);
        assert_eq!(retry_after(&Response::new(())), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::ZERO), Some(1));
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), Some(2));
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), Some(3));
        assert_eq!(retry_after_seconds(Duration::MAX), None);
    }
}
