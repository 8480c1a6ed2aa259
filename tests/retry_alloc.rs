//! The success path of `#[retry]` and `RetryPolicy::call` allocates nothing (own binary: it
//! installs a counting global allocator).

use std::time::Duration;

use coord::{RetryPolicy, retry};

mod support;

use support::alloc::{Counting, allocations_during};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[retry(max_retries = 3, base_delay = "1ms")]
fn succeed(x: u64) -> Result<u64, String> {
    Ok(x + 1)
}

#[test]
fn first_attempt_successes_do_not_allocate() {
    let policy = RetryPolicy::exponential(3, Duration::from_millis(1), 2.0).named("alloc.policy");
    // Warm up: the call site and the budget registry allocate once, on first use.
    succeed(0).unwrap();
    let _: Result<u64, String> = policy.call(|| Ok(1));

    let (n, ()) = allocations_during(|| {
        for i in 0..1_000 {
            succeed(i).unwrap();
            let _: Result<u64, String> = policy.call(|| Ok(i));
        }
    });
    assert_eq!(n, 0, "1,000 successful calls allocated {n} times");
}
