//! An objective's windows on a fake clock: each window forgets what is older than itself, the
//! budget is counted over the period, the burn alerts fire in process when both of their
//! windows burn, and the readiness input (off by default) follows the fast page alert. One test:
//! the objectives' clock is process-wide.

use std::time::Duration;

use coord::objectives::{self, Indicator};
use coord::{FakeClock, Objective, Outcome};

mod support;
use support::http::request;

fn calls(op: &coord::perf::Operation, good: u32, bad: u32) {
    for _ in 0..good {
        op.record(Duration::from_millis(1), Outcome::Success);
    }
    for _ in 0..bad {
        op.record(Duration::from_millis(1), Outcome::Failure);
    }
}

fn success(name: &str) -> coord::objectives::SliSnapshot {
    coord::report()
        .objectives
        .into_iter()
        .find(|o| o.name == name)
        .unwrap()
        .indicator(Indicator::Success)
        .unwrap()
        .clone()
}

#[test]
fn windows_budget_alerts_and_readiness_follow_a_fake_clock() {
    let clock = FakeClock::new();
    objectives::set_clock(clock.clone().into());
    Objective::new("windows.checkout")
        .success_rate(0.99)
        .declare()
        .unwrap();
    objectives::join("windows.op", "windows.checkout");
    let op = coord::monitor().operation_handle("windows.op");

    // A good first hour: 1,000 calls, 1 failure, read every minute (as a scrape would).
    for _ in 0..60 {
        clock.advance(Duration::from_secs(60));
        calls(&op, 16, 0);
        let _ = coord::report();
    }
    calls(&op, 39, 1);
    clock.advance(Duration::from_secs(60));
    let s = success("windows.checkout");
    let hour = s.window("1h").unwrap();
    // The hour before now: the first minute's 16 calls are older.
    assert_eq!((hour.valid, hour.good), (984, 983), "{hour:?}");
    assert!(s.alerts.iter().all(|a| !a.firing), "{s:?}");
    assert!(s.error_budget_remaining > 0.85, "{s:?}");

    // Then 10 minutes at 50 % failures: the 5 m window sees only them, the hour a mix.
    for _ in 0..10 {
        clock.advance(Duration::from_secs(60));
        calls(&op, 50, 50);
        let _ = coord::report();
    }
    let s = success("windows.checkout");
    let five = s.window("5m").unwrap();
    assert!((five.compliance.unwrap() - 0.5).abs() < 1e-9, "{five:?}");
    assert!((five.burn_rate.unwrap() - 50.0).abs() < 1e-6, "{five:?}");
    let hour = s.window("1h").unwrap();
    assert!(
        hour.compliance.unwrap() > 0.5 && hour.compliance.unwrap() < 0.99,
        "{hour:?}"
    );
    // 1h burn about 500 bad of 1,900 / 0.01 = 26x > 14.4x, 5m 50x: the fast page fires, and
    // the 6h/30m and 3d/6h alerts too (their windows hold the same calls so far).
    let fast = s
        .alerts
        .iter()
        .find(|a| a.alert == "CoordObjectiveFastBurn")
        .unwrap();
    assert!(fast.firing, "{s:?}");
    assert!(s.error_budget_remaining < 0.0, "overspent: {s:?}");
    // The readiness input is off by default, then follows the fast alert.
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    let addr = server.local_addr();
    assert!(!objectives::readiness());
    assert_eq!(request(addr, "GET", "/health/ready").status, 200);
    objectives::set_readiness(true);
    let ready = request(addr, "GET", "/health/ready");
    assert_eq!(ready.status, 503);
    // The answer says why, whatever the host's health.
    let burning = &ready.json()["burning_objectives"];
    assert!(
        burning
            .as_array()
            .is_some_and(|names| !names.is_empty() && names.iter().all(|n| n.is_string())),
        "{burning}"
    );
    assert_eq!(request(addr, "GET", "/health/live").status, 200);

    // An hour and a quarter of good calls: the 5 m and 1 h windows recover, the alert stops;
    // the period still holds the bad minutes.
    for _ in 0..75 {
        clock.advance(Duration::from_secs(60));
        calls(&op, 100, 0);
        let _ = coord::report();
    }
    let s = success("windows.checkout");
    assert_eq!(s.window("5m").unwrap().compliance, Some(1.0), "{s:?}");
    assert_eq!(s.window("1h").unwrap().compliance, Some(1.0), "{s:?}");
    let fast = s
        .alerts
        .iter()
        .find(|a| a.alert == "CoordObjectiveFastBurn")
        .unwrap();
    assert!(!fast.firing, "{s:?}");
    let period = s.windows.last().unwrap();
    assert_eq!(period.window, "30d");
    assert_eq!(period.valid - period.good, 501, "{period:?}");
    assert_eq!(request(addr, "GET", "/health/ready").status, 200);
    objectives::set_readiness(false);
    server.shutdown();

    // A reset forgets the windows' history with the counts.
    coord::reset();
    let s = success("windows.checkout");
    assert_eq!(s.windows.last().unwrap().valid, 0, "{s:?}");
    assert_eq!(s.error_budget_remaining, 1.0);

    // The registry's cap: a new name past it is refused and counted; a known one is not.
    coord::limits::set_max_objectives(1);
    let refused = Objective::new("windows.extra").success_rate(0.9).declare();
    assert!(
        matches!(refused, Err(coord::ObjectiveError::TooMany { cap: 1 })),
        "{refused:?}"
    );
    assert!(
        Objective::new("windows.checkout")
            .success_rate(0.99)
            .declare()
            .is_ok()
    );
    let dropped = coord::limits::dropped_names();
    assert!(
        dropped
            .iter()
            .any(|(registry, count)| *registry == "objectives" && *count == 1),
        "{dropped:?}"
    );
    coord::limits::set_max_objectives(coord::limits::DEFAULT_MAX_OBJECTIVES);
}
