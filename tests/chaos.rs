//! Fault injection (`coord::chaos`): errors, latencies and rejections armed from code and from
//! `coord.yaml`, reaching the attributes' sync and async stacks and the tower layer, counted
//! apart from real failures (rejections at breakers: `chaos/breakers.rs`; the admin route:
//! `tests/chaos_http.rs`). Chaos is process-wide (one switch, one generator), so the tests of
//! this binary take turns.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::Duration;

use coord::chaos::{self, ChaosError, Fault, FaultKind, Latency};
use coord::{FakeClock, retry, timeout, track_performance};

mod support;
use support::chaos::turn;

#[path = "support/spans.rs"]
mod recorder;

#[path = "chaos/breakers.rs"]
mod breakers;

#[derive(Debug, PartialEq)]
enum PayError {
    Declined,
    Injected,
    /// The time limit's rejection (the `From<TimedOut>` that `#[timeout]` asks for).
    TimedOut,
}

impl std::fmt::Display for PayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl chaos::Injectable for PayError {}

impl From<coord::TimedOut> for PayError {
    fn from(_: coord::TimedOut) -> Self {
        PayError::TimedOut
    }
}

/// Declares `$fn`, a payment tracked as the operation `$name` that succeeds with 1: whatever
/// else it returns, chaos injected.
macro_rules! tracked_payment {
    // A `literal` fragment reaches the attribute in an invisible group (the short form here).
    ($fn:ident, $name:literal) => {
        #[track_performance($name)]
        fn $fn() -> Result<u32, PayError> {
            Ok(1)
        }
    };
}

fn injected(name: &str, kind: FaultKind) -> u64 {
    chaos::injected()
        .iter()
        .filter(|count| count.name == name && count.kind == kind)
        .map(|count| count.injected)
        .sum()
}

tracked_payment!(pay_rate, "chaos_t.rate");

#[test]
fn rate_0_1_injects_ten_percent_then_nothing_when_disarmed_or_reset() {
    let _turn = turn();
    // Off: nothing armed, nothing injected.
    assert!(!chaos::armed());
    assert!((0..1_000).all(|_| pay_rate().is_ok()));

    chaos::set_seed(27);
    chaos::error("chaos_t.rate", 0.1, || PayError::Injected).unwrap();
    assert!(chaos::armed());
    let failed = (0..10_000).filter(|_| pay_rate().is_err()).count() as u64;
    assert!((900..=1_100).contains(&failed), "{failed} of 10,000");
    assert_eq!(injected("chaos_t.rate", FaultKind::Error), failed);
    let stats = coord::operation("chaos_t.rate").unwrap();
    assert_eq!(
        (stats.calls, stats.failures, stats.last_error.as_deref()),
        (1_000 + 10_000 - failed, 0, None),
        "injected calls are counted apart"
    );

    assert_eq!(chaos::disarm("chaos_t.rate"), 1);
    assert!(!chaos::armed());
    assert!((0..1_000).all(|_| pay_rate().is_ok()));

    chaos::error("chaos_t.rate", 1.0, || PayError::Injected).unwrap();
    assert_eq!(pay_rate(), Err(PayError::Injected));
    coord::reset();
    assert!(!chaos::armed() && chaos::rules().is_empty());
    assert!(chaos::injected().is_empty(), "reset zeroes the counts");
    assert!((0..1_000).all(|_| pay_rate().is_ok()));
    // The factory stays registered: a file or HTTP rule may switch it on again.
    chaos::arm("chaos_t.rate", Fault::Error { rate: 1.0 }).unwrap();
    assert_eq!(pay_rate(), Err(PayError::Injected));
}

static RETRIED_RUNS: AtomicU32 = AtomicU32::new(0);

#[track_performance(name = "chaos_t.retried")]
#[retry(max_retries = 3, base_delay = "1ms")]
fn retried() -> Result<u32, PayError> {
    RETRIED_RUNS.fetch_add(1, SeqCst);
    Err(PayError::Declined)
}

#[test]
fn an_injected_error_is_answered_outside_every_layer_and_counted_apart() {
    let _turn = turn();
    chaos::error("chaos_t.retried", 1.0, || PayError::Injected).unwrap();
    assert_eq!(retried(), Err(PayError::Injected));
    assert_eq!(RETRIED_RUNS.load(SeqCst), 0, "neither run nor retried");
    assert!(coord::operation("chaos_t.retried").is_none_or(|s| s.calls == 0));
    assert!(
        coord::error_report()
            .find("chaos_t.retried")
            .is_none_or(|row| row.errors == 0),
        "no error row"
    );
    chaos::disarm_all();
    assert_eq!(retried(), Err(PayError::Declined));
    assert_eq!(RETRIED_RUNS.load(SeqCst), 4);
    assert_eq!(coord::operation("chaos_t.retried").unwrap().failures, 1);
}

#[track_performance(name = "chaos_t.async_once")]
async fn async_once() -> Result<u32, PayError> {
    Ok(1)
}

#[track_performance(name = "chaos_t.async_retried")]
#[retry(max_retries = 2, base_delay = "1ms")]
async fn async_retried() -> Result<u32, PayError> {
    Ok(2)
}

#[track_performance(name = "chaos_t.async_limited")]
#[retry(max_retries = 2, base_delay = "1ms")]
#[timeout(attempt = "1s")]
async fn async_limited() -> Result<u32, PayError> {
    Ok(3)
}

static HEDGED_RUNS: AtomicU32 = AtomicU32::new(0);

#[track_performance(name = "chaos_t.hedged")]
#[coord::hedge(after = "1s")]
async fn hedged() -> Result<u32, PayError> {
    HEDGED_RUNS.fetch_add(1, SeqCst);
    Ok(4)
}

#[tokio::test]
async fn a_hedged_call_takes_an_injected_error_before_any_attempt() {
    let _turn = turn();
    chaos::error("chaos_t.hedged", 1.0, || PayError::Injected).unwrap();
    assert_eq!(hedged().await, Err(PayError::Injected));
    assert_eq!(HEDGED_RUNS.load(SeqCst), 0);
    chaos::disarm_all();
    assert_eq!(hedged().await, Ok(4));
    assert_eq!(HEDGED_RUNS.load(SeqCst), 1);
}

#[tokio::test]
async fn async_stacks_take_errors_and_wait_latencies_on_the_chaos_clock() {
    let _turn = turn();
    let fake = FakeClock::new();
    chaos::set_clock(&fake);
    for name in ["chaos_t.async_once", "chaos_t.async_retried"] {
        chaos::latency(name, 1.0, Latency::Fixed(Duration::from_millis(250))).unwrap();
        chaos::error(name, 1.0, || PayError::Injected).unwrap();
    }
    assert_eq!(async_once().await, Err(PayError::Injected));
    assert_eq!(async_retried().await, Err(PayError::Injected));
    assert_eq!(fake.sleeps(), [Duration::from_millis(250); 2]);
    for name in ["chaos_t.async_once", "chaos_t.async_retried"] {
        assert_eq!(injected(name, FaultKind::Error), 1, "{name}");
        assert_eq!(injected(name, FaultKind::Latency), 1, "{name}");
    }
    // The time-limited stack; the factory's type is the operation's error type.
    chaos::error("chaos_t.async_limited", 1.0, || PayError::Injected).unwrap();
    assert_eq!(async_limited().await, Err(PayError::Injected));
    chaos::disarm_all();
    assert_eq!(async_once().await, Ok(1));
    assert_eq!(async_retried().await, Ok(2));
    assert_eq!(async_limited().await, Ok(3));
}

tracked_payment!(slow, "chaos_t.slow");

#[track_performance(name = "chaos_t.plain")]
fn plain() -> u32 {
    5
}

#[test]
fn latencies_are_drawn_from_their_distribution_and_waited_on_the_chaos_clock() {
    let _turn = turn();
    let fake = FakeClock::new();
    chaos::set_clock(&fake);
    let (low, high) = (Duration::from_millis(10), Duration::from_millis(20));
    chaos::latency("chaos_t.slow", 1.0, Latency::Between(low, high)).unwrap();
    for _ in 0..200 {
        slow().unwrap();
    }
    let sleeps = fake.sleeps();
    assert_eq!(sleeps.len(), 200);
    assert!(
        sleeps.iter().all(|d| (low..=high).contains(d)),
        "{sleeps:?}"
    );
    assert!(sleeps.iter().any(|d| *d != sleeps[0]), "drawn, not fixed");

    let choices = vec![Duration::from_millis(1), Duration::from_secs(1)];
    chaos::latency("chaos_t.slow", 1.0, Latency::OneOf(choices.clone())).unwrap();
    for _ in 0..200 {
        slow().unwrap();
    }
    let sleeps = &fake.sleeps()[200..];
    assert!(sleeps.iter().all(|d| choices.contains(d)));
    assert!(
        choices.iter().all(|c| sleeps.contains(c)),
        "each choice drawn"
    );
    assert_eq!(injected("chaos_t.slow", FaultKind::Latency), 400);

    // An operation that is not a `Result` can wait, but cannot fail.
    chaos::latency(
        "chaos_t.plain",
        1.0,
        Latency::Fixed(Duration::from_millis(3)),
    )
    .unwrap();
    assert_eq!(plain(), 5);
    assert_eq!(fake.sleeps().last(), Some(&Duration::from_millis(3)));
}

tracked_payment!(mismatch, "chaos_t.mismatch");

/// An error type that did not opt in ([`chaos::Injectable`]).
#[derive(Debug, PartialEq)]
struct Plain;

impl std::fmt::Display for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("plain")
    }
}

#[track_performance(name = "chaos_t.not_injectable")]
fn not_injectable() -> Result<u32, Plain> {
    Ok(1)
}

/// A generic error type, which need not be `'static`: it still compiles, and is never hit.
#[track_performance(name = "chaos_t.generic")]
fn generic<E: std::fmt::Display>(value: Result<u32, E>) -> Result<u32, E> {
    value
}

#[test]
fn only_error_types_that_opted_in_are_made_up() {
    let _turn = turn();
    chaos::error("chaos_t.not_injectable", 1.0, || Plain).unwrap();
    chaos::error("chaos_t.generic", 1.0, || PayError::Injected).unwrap();
    assert_eq!(not_injectable(), Ok(1));
    assert_eq!(generic::<PayError>(Ok(2)), Ok(2));
    assert_eq!(injected("chaos_t.not_injectable", FaultKind::Error), 0);
    assert_eq!(injected("chaos_t.generic", FaultKind::Error), 0);
    // Its failures are still remembered by `Display`.
    let _ = generic::<Plain>(Err(Plain));
    let stats = coord::operation("chaos_t.generic").unwrap();
    assert_eq!(stats.last_error.as_deref(), Some("plain"));
}

#[test]
fn rules_are_checked_and_a_factory_of_another_type_never_hits() {
    let _turn = turn();
    chaos::error("chaos_t.mismatch", 1.0, || "a String".to_owned()).unwrap();
    assert!(!chaos::rules()[0].mismatched, "not known before a call");
    assert_eq!(mismatch(), Ok(1));
    assert_eq!(injected("chaos_t.mismatch", FaultKind::Error), 0);
    assert!(chaos::rules()[0].mismatched, "it can never hit: said so");
    // A factory of the right type clears the mark, and hits.
    chaos::register_error("chaos_t.mismatch", || PayError::Injected).unwrap();
    assert!(!chaos::rules()[0].mismatched);
    assert_eq!(mismatch(), Err(PayError::Injected));
    chaos::error("chaos_t.mismatch", 1.0, || "a String".to_owned()).unwrap();

    let refused = |name: &str, fault| chaos::arm(name, fault).unwrap_err();
    assert!(matches!(
        refused("chaos_t.x", Fault::Error { rate: 0.5 }),
        ChaosError::NoFactory { .. }
    ));
    assert!(matches!(
        refused("chaos_t.x", Fault::Reject { rate: 1.5 }),
        ChaosError::Rate { .. }
    ));
    assert!(matches!(
        refused("chaos_t.x", Fault::Reject { rate: f64::NAN }),
        ChaosError::Rate { .. }
    ));
    let latency = |latency| Fault::Latency { rate: 1.0, latency };
    let ms = Duration::from_millis;
    for bad in [
        Latency::Between(ms(20), ms(10)),
        Latency::OneOf(vec![]),
        Latency::OneOf(vec![ms(1); 17]),
        Latency::Fixed(Duration::from_secs(3_600)),
    ] {
        assert!(matches!(
            refused("chaos_t.x", latency(bad)),
            ChaosError::Latency { .. }
        ));
    }
    assert!(matches!(
        refused("", Fault::Reject { rate: 0.1 }),
        ChaosError::Name { .. }
    ));
    assert!(matches!(
        refused(&"n".repeat(300), Fault::Reject { rate: 0.1 }),
        ChaosError::Name { .. }
    ));
    let listed = chaos::rules();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (listed[0].name.as_str(), listed[0].kind),
        ("chaos_t.mismatch", FaultKind::Error)
    );
}

tracked_payment!(from_file, "chaos_t.file");

#[test]
fn the_file_section_arms_rules_and_refuses_bad_ones_with_their_place() {
    let _turn = turn();
    chaos::register_error("chaos_t.file", || PayError::Injected).unwrap();
    let loaded = coord::config::load_str(
        "chaos:\n  seed: 9\n  operations:\n    chaos_t.file:\n      error: 1.0\n      latency: { rate: 0.0, fixed: 5ms }\n  breakers:\n    chaos_t.file_db: { reject: 0.25 }\n",
    )
    .unwrap();
    assert_eq!(loaded.chaos, ["chaos_t.file", "chaos_t.file_db"]);
    assert_eq!(from_file(), Err(PayError::Injected));
    assert_eq!(chaos::rules().len(), 3);
    chaos::disarm_all();
    // A name under both `operations` and `breakers`, apart in the list, is loaded once.
    let loaded = coord::config::load_str(
        "chaos:\n  operations:\n    chaos_t.both: { latency: { rate: 0.0, fixed: 1ms } }\n  breakers:\n    chaos_t.a: { reject: 0.0 }\n    chaos_t.both: { reject: 0.0 }\n",
    )
    .unwrap();
    assert_eq!(loaded.chaos, ["chaos_t.a", "chaos_t.both"]);
    chaos::disarm_all();

    let refusal = |yaml: &str| coord::config::load_str(yaml).unwrap_err().to_string();
    let cases = [
        // A rate out of range, with its line and column.
        (
            "chaos:\n  breakers:\n    db: { reject: 1.5 }\n",
            &["<string>:3:", "outside 0.0..=1.0"][..],
        ),
        // A key that does not exist.
        (
            "chaos:\n  breakers:\n    db: { rejects: 0.5 }\n",
            &["<string>:3:", "unknown key `rejects`"],
        ),
        (
            "chaos:\n  operation: {}\n",
            &["<string>:2:", "unknown key `operation`"],
        ),
        // Not a duration.
        (
            "chaos:\n  operations:\n    op: { latency: { fixed: soon } }\n",
            &["<string>:3:", "soon"],
        ),
        // Two kinds of latency, or none.
        (
            "chaos:\n  operations:\n    op: { latency: { fixed: 1ms, one_of: [2ms] } }\n",
            &["chaos.operations.op.latency", "exactly one of"],
        ),
        (
            "chaos:\n  operations:\n    op: { latency: { rate: 0.5 } }\n",
            &["chaos.operations.op.latency", "exactly one of"],
        ),
        // An empty range, no choice.
        (
            "chaos:\n  operations:\n    op: { latency: { between: [20ms, 10ms] } }\n",
            &["chaos.operations.op.latency", "empty"],
        ),
        (
            "chaos:\n  operations:\n    op: { latency: { one_of: [] } }\n",
            &["chaos.operations.op.latency", "0 choices"],
        ),
        // An error without a factory registered in code.
        (
            "chaos:\n  operations:\n    chaos_t.no_factory: { error: 0.5 }\n",
            &[
                "chaos.operations.chaos_t.no_factory.error",
                "register_error",
            ],
        ),
        // Not a number.
        ("chaos:\n  seed: -1\n", &["<string>:2:"]),
    ];
    for (yaml, expected) in cases {
        let message = refusal(yaml);
        for part in expected {
            assert!(message.contains(part), "{yaml:?}: {message}");
        }
    }
    // All or nothing: a refused section arms none of its rules.
    refusal(
        "chaos:\n  breakers:\n    chaos_t.first: { reject: 0.5 }\n  operations:\n    chaos_t.no_factory: { error: 0.5 }\n",
    );
    assert!(chaos::rules().is_empty() && !chaos::armed());
}

tracked_payment!(reported, "chaos_t.report");

#[test]
fn injected_faults_are_in_every_report_format() {
    let _turn = turn();
    chaos::error("chaos_t.report", 1.0, || PayError::Injected).unwrap();
    for _ in 0..3 {
        assert!(reported().is_err());
    }
    let report = coord::report();
    let table = report.to_string();
    assert!(table.contains("Chaos (injected faults"), "{table}");
    assert!(table.contains("chaos_t.report"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    let rows = json["chaos"].as_array().unwrap();
    assert!(rows.iter().any(|row| row["name"] == "chaos_t.report"
        && row["kind"] == "error"
        && row["injected"] == 3));
    let yaml = report.to_yaml().unwrap();
    assert!(yaml.contains("chaos:"), "{yaml}");
    assert!(yaml.contains("name: chaos_t.report"), "{yaml}");
    let prometheus = report.to_prometheus();
    assert!(
        prometheus.contains("# TYPE coord_chaos_injected_total counter\n"),
        "{prometheus}"
    );
    assert!(
        prometheus
            .contains("coord_chaos_injected_total{name=\"chaos_t.report\",kind=\"error\"} 3\n"),
        "{prometheus}"
    );
    // Never a failure of the operation.
    assert!(!prometheus.contains(
        "coord_operation_calls_total{operation=\"chaos_t.report\",outcome=\"failure\"} 3"
    ));
}

/// A tower service answering 200 with a body, whose error type is `PayError`.
#[derive(Clone)]
struct Answering;

impl coord::tower::Service<http::Request<String>> for Answering {
    type Response = http::Response<String>;
    type Error = PayError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, PayError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), PayError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<String>) -> Self::Future {
        Box::pin(async { Ok(http::Response::new("real".to_owned())) })
    }
}

async fn through(layer: &coord::tower::CoordLayer) -> Result<http::Response<String>, String> {
    let mut service = tower_layer::Layer::layer(layer, Answering);
    std::future::poll_fn(|cx| coord::tower::Service::poll_ready(&mut service, cx))
        .await
        .map_err(|e| e.to_string())?;
    coord::tower::Service::call(&mut service, http::Request::new(String::new()))
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_tower_layer_takes_the_service_error_or_a_response() {
    let _turn = turn();
    let layer = coord::tower::CoordLayer::new("chaos_t.tower").track_performance();
    assert_eq!(through(&layer).await.unwrap().body(), "real");

    chaos::error("chaos_t.tower", 1.0, || PayError::Injected).unwrap();
    assert_eq!(through(&layer).await.unwrap_err(), "Injected");

    // A factory of the response type: the layer answers it as the service's response.
    chaos::error("chaos_t.tower", 1.0, || {
        let mut answer = http::Response::new("injected".to_owned());
        *answer.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
        answer
    })
    .unwrap();
    let answer = through(&layer).await.unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(injected("chaos_t.tower", FaultKind::Error), 2);
    let stats = coord::operation("chaos_t.tower").unwrap();
    assert_eq!((stats.calls, stats.failures), (1, 0), "counted apart");
}
