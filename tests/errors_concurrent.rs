//! Concurrent failures and reports (its own binary: it fills the recent list).

use std::fmt;
use std::time::Duration;

use coord::{ErrorHandler, RetryPolicy};

#[derive(Debug)]
struct Text(String);

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[test]
fn concurrent_failures_and_reports_agree() {
    const THREADS: u64 = 4;
    const CALLS: u64 = 2_000;
    let handler = ErrorHandler::new("errconc.handler")
        .retry(RetryPolicy::exponential(0, Duration::from_millis(1), 2.0).no_budget());
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let handler = handler.clone();
            s.spawn(move || {
                for i in 0..CALLS {
                    let _ = handler.execute(|| Err::<(), _>(Text(format!("t{t} #{}", i % 3))));
                }
            });
        }
        s.spawn(|| {
            for _ in 0..50 {
                let report = handler.error_report();
                assert!(report.total_errors <= THREADS * CALLS);
                assert!(report.recent.len() <= coord::errors::DEFAULT_RECENT_CAPACITY);
                let _ = coord::error_report();
            }
        });
    });
    let report = handler.error_report();
    assert_eq!(report.total_errors, THREADS * CALLS);
    assert_eq!(report.final_failures, THREADS * CALLS);
    assert_eq!(report.recent.len(), coord::errors::DEFAULT_RECENT_CAPACITY);
    assert!(report.recent.windows(2).all(|w| w[0].at <= w[1].at));
    let last = report.by_operation[0].last_error.clone().unwrap();
    assert!(last.starts_with('t') && last.contains(" #"));
}
