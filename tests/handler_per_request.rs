//! An `ErrorHandler` built for every request, as services often do, shares one breaker: an
//! unchanged configuration is not re-applied, so the breaker's window survives and it trips.

use std::time::Duration;

use coord::{BreakerConfig, BreakerState, ErrorHandler, RetryPolicy};

mod support;

use support::DbError;

fn handler() -> ErrorHandler<std::sync::Arc<coord::CircuitBreaker>> {
    let config = BreakerConfig::default()
        .minimum_calls(4)
        .window(4)
        .failure_rate(0.5)
        .open_for(Duration::from_secs(60));
    ErrorHandler::new("per_request.db")
        .retry(RetryPolicy::exponential(0, Duration::ZERO, 1.0))
        .breaker(config)
}

#[test]
fn a_handler_per_request_still_trips_its_breaker() {
    for _ in 0..4 {
        let result: Result<(), DbError> = handler().execute(|| Err(DbError::Down));
        assert!(matches!(result, Err(DbError::Down)));
    }
    assert_eq!(coord::breaker("per_request.db").state(), BreakerState::Open);
    let result: Result<(), DbError> = handler().execute(|| Ok(()));
    assert!(matches!(result, Err(DbError::Open(_))), "{result:?}");
    // The per-handler report covers this handler's operation: four failures, and the
    // rejection counted apart (a rejection is load shed, not an error).
    let report = handler().error_report();
    assert_eq!(report.total_errors, 4, "{report:?}");
    assert_eq!(report.retry.rejected, 1, "{report:?}");
    assert_eq!(report.by_operation.len(), 1, "{report:?}");
}
