//! A function pays only for the layers it uses, in future size too: the future of a function
//! with one layer is no larger than the body's future plus that layer's state. Sizes are
//! deterministic (unlike times), so they are asserted; `--nocapture` prints them.

use std::error::Error;
use std::mem::size_of_val;

use coord::{bulkhead, circuit_breaker, fallback, rate_limit, retry, timeout, track_performance};

type BoxError = Box<dyn Error + Send + Sync>;

async fn pause() {
    tokio::task::yield_now().await;
}

/// `async fn name(x: u64) -> Result<u64, BoxError>` under the given attributes: a body whose
/// own future is small (one await, a parameter), so that the layers' share shows.
macro_rules! sized {
    ($($(#[$attr:meta])* fn $name:ident;)+) => {$(
        $(#[$attr])*
        async fn $name(x: u64) -> Result<u64, BoxError> {
            pause().await;
            if x == 0 { Err("zero".into()) } else { Ok(x) }
        }
    )+};
}

fn recover(_: BoxError) -> Result<u64, BoxError> {
    Ok(0)
}

sized! {
    fn bare;
    #[track_performance("future_size.perf")]
    fn perf;
    #[timeout("1s")]
    fn attempt_timeout;
    #[timeout(total = "1s")]
    fn total_timeout;
    #[retry(max_retries = 1, base_delay = "1ms")]
    fn retried;
    #[circuit_breaker(name = "future_size.breaker")]
    fn breaker;
    #[rate_limit(name = "future_size.rate_limit")]
    fn limited;
    #[bulkhead(name = "future_size.bulkhead")]
    fn bulkheaded;
    #[fallback(recover)]
    fn recovered;
    #[track_performance("future_size.all")]
    #[fallback(recover)]
    #[timeout(total = "2s")]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker(name = "future_size.all")]
    #[rate_limit(name = "future_size.all")]
    #[bulkhead(name = "future_size.all")]
    #[timeout("1s")]
    fn all;
}

/// A hand-written `coord::timeout` around the body: the state a time limit adds.
async fn by_hand_timeout(x: u64) -> Result<u64, BoxError> {
    match coord::timeout(std::time::Duration::from_secs(1), bare(x)).await {
        Ok(out) => out,
        Err(timed_out) => Err(timed_out.into()),
    }
}

#[test]
fn one_layer_costs_its_own_state_only() {
    let body = size_of_val(&bare(1));
    let timeout_state = size_of_val(&by_hand_timeout(1)) - body;
    let sizes = [
        ("track_performance", size_of_val(&perf(1))),
        ("timeout", size_of_val(&attempt_timeout(1))),
        ("timeout(total)", size_of_val(&total_timeout(1))),
        ("retry", size_of_val(&retried(1))),
        ("circuit_breaker", size_of_val(&breaker(1))),
        ("rate_limit", size_of_val(&limited(1))),
        ("bulkhead", size_of_val(&bulkheaded(1))),
        ("fallback", size_of_val(&recovered(1))),
        ("all eight", size_of_val(&all(1))),
    ];
    println!("body: {body} B; a hand-written coord::timeout adds {timeout_state} B");
    for (layer, size) in sizes {
        println!("{layer}: {size} B (+{})", size.saturating_sub(body));
    }
}
