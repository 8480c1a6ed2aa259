//! Hedged calls through the tower layer: a hedge answers for a hung request and the loser is
//! dropped, and a retried call's future does not carry the race.

use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use coord::tower::{CoordLayer, Service};
use coord::{BreakerConfig, RetryPolicy};

use crate::flaky;
use crate::tower_support::{client, fetch, get_request, serve};

/// A route whose first request hangs for ten seconds; every other answers at once. Counts the
/// requests that started and those that ran to their end.
fn first_hangs(started: Arc<AtomicUsize>, finished: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route(
            "/first-hangs",
            get(
                move |State((started, finished)): State<(Arc<AtomicUsize>, Arc<AtomicUsize>)>| async move {
                    if started.fetch_add(1, SeqCst) == 0 {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                    }
                    finished.fetch_add(1, SeqCst);
                    StatusCode::OK
                },
            ),
        )
        .with_state((started, finished))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hedge_answers_for_a_hung_request_and_the_loser_is_dropped() {
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let addr = serve(first_hangs(Arc::clone(&started), Arc::clone(&finished))).await;
    let layer = CoordLayer::new("tower_t.hedge")
        .track_performance()
        .circuit_breaker(BreakerConfig::default())
        .hedge(coord::HedgeConfig::after(Duration::from_millis(50)));
    layer.validate().unwrap();
    let mut service = tower_layer::Layer::layer(&layer, client());
    let begun = std::time::Instant::now();
    let response = fetch(&mut service, addr, "/first-hangs").await;
    assert_eq!(response.status(), StatusCode::OK);
    // A generous liveness bound: the hung request would take ten seconds.
    assert!(
        begun.elapsed() < Duration::from_secs(5),
        "{:?}",
        begun.elapsed()
    );
    assert_eq!(started.load(SeqCst), 2, "the request and one hedge");
    assert_eq!(
        finished.load(SeqCst),
        1,
        "the hedge answered; the first still hangs"
    );
    let hedge = coord::hedges::find("tower_t.hedge").unwrap();
    let snapshot = hedge.snapshot();
    assert_eq!(
        (snapshot.calls, snapshot.hedges_started, snapshot.hedges_won),
        (1, 1, 1)
    );
    let stats = coord::operation("tower_t.hedge").unwrap();
    assert_eq!((stats.calls, stats.successes), (1, 1), "one call, not two");
    let breaker = coord::breakers::find("tower_t.hedge").unwrap();
    assert_eq!(
        breaker.snapshot().calls_in_window,
        1,
        "the loser counted nothing"
    );

    // The retried variant: the hedge comes after the retry policy.
    let layer = CoordLayer::new("tower_t.hedge_retry")
        .retry(RetryPolicy::constant(1, Duration::from_millis(1)))
        .hedge(coord::HedgeConfig::after(Duration::from_millis(50)));
    let mut service = tower_layer::Layer::layer(&layer, client());
    let response = fetch(&mut service, addr, "/first-hangs").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        coord::hedges::find("tower_t.hedge_retry")
            .unwrap()
            .snapshot()
            .hedges_started,
        0,
        "only the first request of the route hangs"
    );
    // A layer that only hedges retries nothing: a failed call is not booked as retries given up.
    let failing = serve(flaky(usize::MAX, Arc::new(AtomicUsize::new(0)))).await;
    let layer = CoordLayer::new("tower_t.hedge_only")
        .hedge(coord::HedgeConfig::after(Duration::from_secs(5)));
    let mut service = tower_layer::Layer::layer(&layer, client());
    let response = fetch(&mut service, failing, "/flaky").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        coord::error_report().find("tower_t.hedge_only").is_none(),
        "{:?}",
        coord::error_report().find("tower_t.hedge_only")
    );
    assert!(
        CoordLayer::new("tower_t.hedge_bad")
            .hedge(coord::HedgeConfig::after(Duration::from_millis(1)).max_extra(9))
            .validate()
            .is_err()
    );
}

/// A retried call's boxed future does not carry a hedge's race: a layer without a hedge pays
/// for the retry loop only (the two calls are separate futures, boxed apart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_call_future_is_smaller_than_a_hedged_one() {
    let addr = serve(flaky(0, Arc::new(AtomicUsize::new(0)))).await;
    let policy = || RetryPolicy::constant(1, Duration::from_millis(1));
    let retried = CoordLayer::new("tower_t.size_retried").retry(policy());
    let hedged = CoordLayer::new("tower_t.size_hedged")
        .retry(policy())
        .hedge(coord::HedgeConfig::after(Duration::from_millis(50)));
    let mut retried = tower_layer::Layer::layer(&retried, client());
    let mut hedged = tower_layer::Layer::layer(&hedged, client());
    poll_fn(|cx| retried.poll_ready(cx)).await.unwrap();
    poll_fn(|cx| hedged.poll_ready(cx)).await.unwrap();
    let retried_call = retried.call(get_request(addr, "/flaky"));
    let hedged_call = hedged.call(get_request(addr, "/flaky"));
    let (small, large) = (size_of_val(&*retried_call), size_of_val(&*hedged_call));
    assert!(small < large, "retried {small} B, hedged {large} B");
    assert_eq!(retried_call.await.unwrap().status(), StatusCode::OK);
    assert_eq!(hedged_call.await.unwrap().status(), StatusCode::OK);
}
