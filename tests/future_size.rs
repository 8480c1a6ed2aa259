//! A function pays only for the layers it uses, in future size too: a wrapped function's future
//! is its body's future plus the state of the layers it has, and holds the body once (so a
//! layer costs the same bytes whatever the body). Sizes are deterministic (unlike times), so
//! they are asserted; `--nocapture` prints them.

use std::error::Error;
use std::mem::size_of_val;
use std::time::Duration;

use coord::{bulkhead, circuit_breaker, fallback, rate_limit, retry, timeout, track_performance};

type BoxError = Box<dyn Error + Send + Sync>;

async fn pause() {
    tokio::task::yield_now().await;
}

/// `async fn name(x: u64) -> Result<u64, BoxError>` under the given attributes, twice: `$small`
/// holds little across its await, `$large` a kilobyte.
macro_rules! sized {
    ($($(#[$attr:meta])* fn $small:ident, $large:ident;)+) => {$(
        $(#[$attr])*
        async fn $small(x: u64) -> Result<u64, BoxError> {
            pause().await;
            if x == 0 { Err("zero".into()) } else { Ok(x) }
        }

        $(#[$attr])*
        async fn $large(x: u64) -> Result<u64, BoxError> {
            let buffer = [x as u8; 1024];
            pause().await;
            if x == 0 { Err("zero".into()) } else { Ok(u64::from(buffer[1000])) }
        }
    )+};
}

fn recover(_: BoxError) -> Result<u64, BoxError> {
    Ok(0)
}

sized! {
    fn bare, bare_large;
    #[track_performance("future_size.perf")]
    fn perf, perf_large;
    #[timeout("1s")]
    fn attempt_timeout, attempt_timeout_large;
    #[timeout(total = "1s")]
    fn total_timeout, total_timeout_large;
    #[retry(max_retries = 1, base_delay = "1ms")]
    fn retried, retried_large;
    #[circuit_breaker(name = "future_size.breaker")]
    fn breaker, breaker_large;
    #[rate_limit(name = "future_size.rate_limit")]
    fn limited, limited_large;
    #[bulkhead(name = "future_size.bulkhead")]
    fn bulkheaded, bulkheaded_large;
    #[fallback(recover)]
    fn recovered, recovered_large;
    #[track_performance("future_size.all")]
    #[fallback(recover)]
    #[timeout(total = "2s")]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker(name = "future_size.all")]
    #[rate_limit(name = "future_size.all")]
    #[bulkhead(name = "future_size.all")]
    #[timeout("1s")]
    fn all, all_large;
}

/// A hand-written `coord::timeout` around the body.
async fn by_hand_timeout(x: u64) -> Result<u64, BoxError> {
    match coord::timeout(Duration::from_secs(1), bare_large(x)).await {
        Ok(out) => out,
        Err(timed_out) => Err(timed_out.into()),
    }
}

#[test]
fn a_layer_costs_its_own_state_whatever_the_body() {
    let (body, body_large) = (size_of_val(&bare(1)), size_of_val(&bare_large(1)));
    // A layer's future with the small body and with the large one.
    macro_rules! sizes {
        ($layer:literal, $small:ident, $large:ident) => {
            ($layer, size_of_val(&$small(1)), size_of_val(&$large(1)))
        };
    }
    let layered = [
        sizes!("track_performance", perf, perf_large),
        sizes!("timeout", attempt_timeout, attempt_timeout_large),
        sizes!("timeout(total)", total_timeout, total_timeout_large),
        sizes!("retry", retried, retried_large),
        sizes!("circuit_breaker", breaker, breaker_large),
        sizes!("rate_limit", limited, limited_large),
        sizes!("bulkhead", bulkheaded, bulkheaded_large),
        sizes!("fallback", recovered, recovered_large),
        sizes!("all eight", all, all_large),
    ];
    println!("body: {body} B (large: {body_large} B)");
    let mut singles = 0;
    for (layer, small, large) in layered {
        let cost = small - body;
        println!(
            "{layer}: {small} B, +{cost} B (large body: {large} B, +{})",
            large - body_large
        );
        // The body is held once: a layer's cost does not grow with the body.
        assert!(
            large - body_large <= cost,
            "{layer} holds the body more than once"
        );
        if layer != "all eight" {
            // A layer's own state, and a few words of the stack's: a time limit's timer is the
            // largest (the pipeline this stack replaced cost ~1.8 kB for any one layer). The
            // retry's back-off sleep holds tokio's timer too when coord's `tokio` feature is on
            // (`http` turns it on, and the workspace's default features include `http`).
            let bound = if layer == "retry" { 400 } else { 320 };
            assert!(cost <= bound, "{layer} costs {cost} B");
            singles += cost;
        }
    }
    let all_cost = size_of_val(&all(1)) - body;
    // Layers share the stack's bookkeeping: all eight cost less than the eight alone.
    assert!(
        all_cost < singles,
        "all eight: +{all_cost} B, the eight alone: +{singles} B"
    );
    // `#[timeout]` holds the body by pointer, a hand-written `coord::timeout` by value.
    let by_hand = size_of_val(&by_hand_timeout(1));
    println!("hand-written coord::timeout around the large body: {by_hand} B");
    assert!(size_of_val(&attempt_timeout_large(1)) <= by_hand);
}
