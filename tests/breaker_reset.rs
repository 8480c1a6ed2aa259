//! `coord::reset()` and circuit breakers, in a test binary of its own (reset is process-wide).

use std::time::Duration;

use coord::{BreakerConfig, BreakerState};

mod support;

use support::DbError;

#[test]
fn reset_closes_every_breaker_and_zeroes_its_counters() {
    let config = BreakerConfig::default()
        .window(2)
        .minimum_calls(2)
        .open_for(Duration::from_secs(60));
    let db = coord::breaker_with("reset.db", config).unwrap();
    let cache = coord::breaker("reset.cache");
    for _ in 0..3 {
        let _ = db.call(|| Err::<(), _>(DbError::Down));
    }
    cache.force_open();
    assert_eq!(db.state(), BreakerState::Open);
    assert_eq!(db.snapshot().rejected, 1);
    assert_eq!(coord::breaker::open_count(), 2);

    coord::reset();

    assert_eq!(coord::breaker::open_count(), 0);
    for b in [&db, &cache] {
        let snap = b.snapshot();
        assert_eq!(snap.state, BreakerState::Closed);
        assert_eq!(
            (snap.rejected, snap.transitions, snap.calls_in_window),
            (0, 0, 0)
        );
    }
    // Cached handles keep working and count from zero; the configuration stays.
    db.call(|| Ok::<_, DbError>(())).unwrap();
    assert_eq!(db.snapshot().calls_in_window, 1);
    assert_eq!(db.config().window, coord::Window::Calls(2));
}
