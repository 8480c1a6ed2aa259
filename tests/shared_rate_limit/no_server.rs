//! Shared rate limits without a running Redis: the file's `shared:` section and its refusals,
//! validation, the attribute's fleet size, and fallbacks when nothing listens or a host name
//! does not resolve.

use std::time::Duration;

use coord::config::{ConfigErrorKind, load_str};
use coord::{OnFailure, RateLimitConfig, RateLimited, SharedConfig, rate_limit};

use crate::{admitted_within, shared_limiter, shared_numbers};

fn refusal(yaml: &str) -> (Option<(usize, usize)>, String) {
    let error = load_str(yaml).unwrap_err();
    assert!(
        matches!(error.kind, ConfigErrorKind::Invalid { .. }),
        "{error}"
    );
    (error.location, error.to_string())
}

#[test]
fn the_file_configures_shared_limiters() {
    let loaded = load_str(
        "rate_limits:\n  shared.file.url: { rate: 100, shared: \"redis://127.0.0.1:1/\" }\n  \
         shared.file.map:\n    shared: { url: \"redis://127.0.0.1:1/3\", instances: 5, on_failure: closed, timeout: 20ms, batch: 4 }\n  \
         shared.file.off: { shared: false }\n",
    )
    .unwrap();
    assert_eq!(loaded.rate_limits.len(), 3);
    let config = coord::rate_limiter("shared.file.map").config();
    assert_eq!(
        config.shared,
        Some(
            SharedConfig::default()
                .url("redis://127.0.0.1:1/3")
                .instances(5)
                .on_failure(OnFailure::Closed)
                .timeout(Duration::from_millis(20))
                .batch(4)
        )
    );
    assert!(coord::rate_limiter("shared.file.url").is_shared());
    assert!(!coord::rate_limiter("shared.file.off").is_shared());
}

#[test]
fn a_malformed_url_is_refused_where_it_is_written() {
    let (location, message) =
        refusal("rate_limits:\n  shared.bad.url:\n    shared: \"http://cache:6379\"\n");
    assert_eq!(location, Some((3, 13)), "{message}");
    assert!(message.contains("not a Redis URL"), "{message}");
    let (location, message) =
        refusal("rate_limits:\n  shared.bad.url2:\n    shared: { url: \"redis://cache:port/\" }\n");
    assert_eq!(location.map(|l| l.0), Some(3), "{message}");
}

#[test]
fn an_unknown_shared_key_is_refused_where_it_is_written() {
    let (location, message) = refusal(
        "rate_limits:\n  shared.bad.key:\n    shared: { url: \"redis://h/\", instance: 4 }\n",
    );
    assert_eq!(location.map(|l| l.0), Some(3), "{message}");
    assert!(message.contains("instance"), "{message}");
    let (_, message) =
        refusal("rate_limits:\n  shared.bad.mode:\n    shared: { on_failure: sometimes }\n");
    assert!(message.contains("expected open or closed"), "{message}");
}

#[test]
fn zero_rate_instances_batch_and_timeout_are_refused() {
    for (yaml, what) in [
        ("rate: 0, shared: true", "0 is outside 1"),
        ("shared: { instances: 0 }", "0 is outside 1"),
        ("shared: { batch: 0 }", "0 is outside 1"),
        (
            "shared: { timeout: 0ms }",
            "`shared.timeout`: must be longer than zero",
        ),
    ] {
        let (_, message) = refusal(&format!("rate_limits:\n  shared.bad.zero: {{ {yaml} }}\n"));
        assert!(message.contains(what), "{yaml}: {message}");
        assert!(
            message.contains("shared.bad.zero") || message.contains(":2:"),
            "{message}"
        );
    }
    assert!(coord::rate_limit::find("shared.bad.zero").is_none());
}

#[test]
fn a_reconfigured_shared_limiter_keeps_its_numbers() {
    // Nothing listens on port 1: every call falls back at once.
    let limiter = coord::rate_limiter_with(
        "shared.reconfigured",
        RateLimitConfig::default().rate(1000).burst(10).shared_with(
            SharedConfig::default()
                .url("redis://127.0.0.1:1/")
                .instances(2),
        ),
    )
    .unwrap();
    assert!(limiter.check().is_ok());
    let before = shared_numbers(&limiter);
    assert_eq!(
        (before.redis_errors, before.fallbacks),
        (1, 1),
        "{before:?}"
    );
    limiter
        .configure(
            RateLimitConfig::default().rate(500).burst(10).shared_with(
                SharedConfig::default()
                    .url("redis://127.0.0.1:1/")
                    .instances(2),
            ),
        )
        .unwrap();
    let after = shared_numbers(&limiter);
    assert_eq!((after.redis_errors, after.fallbacks), (1, 1), "{after:?}");
    let prometheus = coord::report().to_prometheus();
    assert!(
        prometheus.contains(
            "coord_rate_limiter_fallback_calls_total{rate_limiter=\"shared.reconfigured\"} 1"
        ),
        "{prometheus}"
    );
    assert!(prometheus.contains(
        "coord_rate_limiter_fallback_rejected_total{rate_limiter=\"shared.reconfigured\"} 0"
    ));
}

#[test]
fn a_shared_limiter_spaces_calls_at_least_a_microsecond_apart() {
    let config = RateLimitConfig::default()
        .rate(1_000)
        .per(Duration::from_micros(100))
        .shared(true);
    let error = config.validate().unwrap_err();
    assert_eq!(error.key(), "per", "{error}");
    assert!(error.to_string().contains("1µs"), "{error}");
    assert!(
        config.clone().shared(false).validate().is_ok(),
        "local: 100 ns is fine"
    );
    assert!(config.per(Duration::from_millis(1)).validate().is_ok());
}

#[rate_limit(name = "shared.attr_fleet", rate = 100, shared = true, instances = 4)]
fn fleet_of_four_call() -> Result<(), RateLimited> {
    Ok(())
}

#[test]
fn the_attribute_sets_the_fleet_size() {
    let _ = fleet_of_four_call();
    let config = coord::rate_limiter("shared.attr_fleet").config();
    assert_eq!(config.shared.map(|shared| shared.instances), Some(4));
}

#[test]
fn a_host_name_that_does_not_resolve_never_holds_a_caller_past_the_timeout() {
    let timeout = Duration::from_millis(50);
    let limiter = shared_limiter(
        "shared.unresolved",
        RateLimitConfig::default().rate(1000).burst(10),
        SharedConfig::default()
            .url("redis://coord-test.invalid:6379/")
            .instances(2)
            .timeout(timeout),
    );
    // Resolving is a helper thread's: however long `getaddrinfo` takes, the caller does not
    // wait for it past the timeout (a liveness bound: timeout + 50 ms); fail-open admits
    // locally.
    for _ in 0..5 {
        admitted_within(&limiter, timeout);
    }
    let numbers = shared_numbers(&limiter);
    assert_eq!(numbers.state, "fallback");
    assert_eq!(
        (numbers.redis_calls, numbers.fallbacks),
        (0, 5),
        "{numbers:?}"
    );
}

/// Counts the warnings whose message contains a text.
struct WarningCounter {
    text: &'static str,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for WarningCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        if *event.metadata().level() == tracing::Level::WARN {
            let mut message = Message(String::new());
            event.record(&mut message);
            if message.0.contains(self.text) {
                self.count
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

#[test]
fn failing_open_with_one_instance_is_warned_once() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let warned = |name: &str, instances: u64| {
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let subscriber = tracing_subscriber::registry().with(WarningCounter {
            text: "every instance admits the whole rate",
            count: std::sync::Arc::clone(&count),
        });
        tracing::subscriber::with_default(subscriber, || {
            // Nothing listens on port 1: every call falls back (open) at once.
            let limiter = shared_limiter(
                name,
                RateLimitConfig::default().rate(1000).burst(10),
                SharedConfig::default()
                    .url("redis://127.0.0.1:1/5")
                    .instances(instances),
            );
            for _ in 0..5 {
                let _ = limiter.check();
            }
            assert_eq!(shared_numbers(&limiter).fallbacks, 5);
        });
        count.load(std::sync::atomic::Ordering::Relaxed)
    };
    assert_eq!(warned("shared.open_alone", 1), 1);
    assert_eq!(warned("shared.open_fleet", 3), 0);
}
