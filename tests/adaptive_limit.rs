//! Adaptive concurrency limits (`coord::bulkheads::AdaptiveLimit`).
//!
//! The algorithms are checked in a simulation, in virtual time: a downstream with a capacity of
//! `C` calls, each needing 10 ms of its time, shared among the calls in flight (beyond `C`
//! concurrent calls every call slows down in proportion), offered 1.5 times what it can serve
//! (Poisson arrivals). A bulkhead in front admits calls up to its limit and rejects the rest.
//! The best fixed limit is `C`: below it the downstream idles, above it calls only wait longer.
//! Then a real bulkhead, `#[bulkhead(adaptive = "vegas")]`, in front of a slow async
//! downstream, in real time.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use coord::bulkheads::{AdaptiveLimit, Algorithm, Sample};
use coord::{BulkheadFull, bulkhead};

const SERVICE: f64 = 0.010;

/// A small deterministic generator (xorshift64*), so each run sees the same arrivals.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn exponential(&mut self, rate: f64) -> f64 {
        -(1.0 - self.uniform()).ln() / rate
    }
}

/// What the second half of a simulated run measured.
#[derive(Debug)]
struct Run {
    throughput: f64,
    p50_ms: f64,
    mean_limit: f64,
}

/// `limit(sample)` is the limit after each finished call (a fixed limit ignores it).
fn simulate(capacity: usize, seconds: f64, mut limit: impl FnMut(Option<Sample>) -> usize) -> Run {
    let c = capacity as f64;
    let arrivals = 1.5 * c / SERVICE;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Processor sharing with equal work: calls finish in arrival order. `served` is the service
    // each call in flight has received since time zero; a call is done when it has had SERVICE
    // more than `served` was when it arrived.
    let (mut now, mut served) = (0.0_f64, 0.0_f64);
    let mut in_flight: VecDeque<(f64, f64)> = VecDeque::new();
    let mut next_arrival = rng.exponential(arrivals);
    let mut current = limit(None);
    let (mut done, mut latencies, mut limits) = (0_u64, Vec::new(), Vec::new());
    while now < seconds {
        let rate = if in_flight.is_empty() {
            0.0
        } else {
            (c / in_flight.len() as f64).min(1.0)
        };
        let next_done = in_flight.front().map_or(f64::INFINITY, |(at, _)| {
            now + (at + SERVICE - served) / rate
        });
        if next_arrival < next_done {
            served += (next_arrival - now) * rate;
            now = next_arrival;
            if in_flight.len() < current {
                in_flight.push_back((served, now));
            }
            next_arrival = now + rng.exponential(arrivals);
        } else {
            served += (next_done - now) * rate;
            now = next_done;
            let (_, started) = in_flight.pop_front().expect("a call in flight");
            let latency = now - started;
            current = limit(Some(Sample {
                latency: Duration::from_secs_f64(latency),
                in_flight: in_flight.len() + 1,
                failed: false,
            }));
            if now > seconds / 2.0 {
                done += 1;
                latencies.push(latency);
                limits.push(current as f64);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    Run {
        throughput: done as f64 / (seconds / 2.0),
        p50_ms: latencies[latencies.len() / 2] * 1e3,
        mean_limit: limits.iter().sum::<f64>() / limits.len() as f64,
    }
}

fn fixed(capacity: usize, limit: usize) -> Run {
    simulate(capacity, 20.0, |_| limit)
}

/// The fixed limit with the most throughput among a few around the capacity (Poisson arrivals
/// leave a limit of exactly `C` idle part of the time, so a little above it serves more).
fn best_fixed(capacity: usize) -> Run {
    [1.0, 1.2, 1.5, 2.0, 10.0]
        .into_iter()
        .map(|factor| fixed(capacity, (capacity as f64 * factor) as usize))
        .max_by(|a, b| a.throughput.total_cmp(&b.throughput))
        .expect("five runs")
}

fn adaptive(capacity: usize, adaptive: AdaptiveLimit) -> Run {
    let mut limiter = adaptive.limiter(10 * capacity);
    simulate(capacity, 20.0, move |sample| match sample {
        Some(sample) => limiter.on_sample(sample),
        None => limiter.limit(),
    })
}

#[test]
fn vegas_settles_near_the_capacity_with_the_best_fixed_limits_throughput() {
    for capacity in [20, 40, 100] {
        let best = best_fixed(capacity);
        let too_high = fixed(capacity, 10 * capacity);
        let vegas = adaptive(capacity, AdaptiveLimit::vegas());
        let c = capacity as f64;
        assert!(
            (vegas.mean_limit - c).abs() <= 0.2 * c,
            "capacity {capacity}: {vegas:?}"
        );
        assert!(
            vegas.throughput >= 0.9 * best.throughput,
            "capacity {capacity}: {vegas:?} vs {best:?}"
        );
        // A limit set too high serves hardly more, and every call waits several times as long.
        assert!(too_high.throughput <= 1.1 * vegas.throughput);
        assert!(
            too_high.p50_ms > 5.0 * vegas.p50_ms,
            "{too_high:?} vs {vegas:?}"
        );
    }
}

#[test]
fn aimd_with_a_latency_threshold_settles_near_the_capacity() {
    for capacity in [20, 40, 100] {
        let best = best_fixed(capacity);
        let aimd = adaptive(
            capacity,
            AdaptiveLimit::aimd().latency_threshold(Duration::from_millis(12)),
        );
        let c = capacity as f64;
        assert!(
            (aimd.mean_limit - c).abs() <= 0.25 * c,
            "capacity {capacity}: {aimd:?}"
        );
        assert!(aimd.throughput >= 0.9 * best.throughput, "{aimd:?}");
    }
}

#[test]
fn gradient2_keeps_the_throughput_and_follows_latency_above_its_history() {
    // Against latency that grows only in proportion to concurrency, Gradient2's baseline drifts
    // up with it (documented on `AdaptiveLimit`): it keeps the throughput, not the latency.
    let capacity = 40;
    let best = best_fixed(capacity);
    let gradient = adaptive(capacity, AdaptiveLimit::gradient2());
    assert!(gradient.throughput >= 0.9 * best.throughput, "{gradient:?}");
    assert!(gradient.mean_limit > capacity as f64, "{gradient:?}");
}

#[test]
fn the_configured_bounds_hold() {
    let limiter = AdaptiveLimit::of(Algorithm::Vegas)
        .initial_limit(1_000)
        .limiter(50);
    assert_eq!(limiter.limit(), 50);
    let run = adaptive(5, AdaptiveLimit::vegas().min_limit(8));
    assert!(run.mean_limit >= 8.0, "{run:?}");
}

#[derive(Debug)]
enum Error {
    Busy,
}

impl From<BulkheadFull> for Error {
    fn from(_: BulkheadFull) -> Self {
        Error::Busy
    }
}

/// A downstream that serves 10 calls at once in 20 ms each, and shares itself beyond that.
static DOWNSTREAM: AtomicUsize = AtomicUsize::new(0);

#[bulkhead(
    name = "adaptive.real",
    max_concurrent = 60,
    max_wait = "0ms",
    adaptive = "vegas"
)]
async fn call_downstream() -> Result<(), Error> {
    let n = DOWNSTREAM.fetch_add(1, SeqCst) + 1;
    let slowdown = (n as f64 / 10.0).max(1.0);
    tokio::time::sleep(Duration::from_secs_f64(0.020 * slowdown)).await;
    DOWNSTREAM.fetch_sub(1, SeqCst);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_bulkhead_brings_its_limit_down_towards_the_downstreams_capacity() {
    let mut clients = Vec::new();
    for _ in 0..60 {
        clients.push(tokio::spawn(async {
            let until = tokio::time::Instant::now() + Duration::from_secs(3);
            while tokio::time::Instant::now() < until {
                if call_downstream().await.is_err() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        }));
    }
    for client in clients {
        client.await.expect("a client task");
    }
    let snapshot = coord::bulkhead("adaptive.real").snapshot();
    assert_eq!(snapshot.adaptive, Some(Algorithm::Vegas));
    assert_eq!(snapshot.ceiling, 60);
    // It started at 4 (the default initial limit) with 60 callers: it grew, and queueing
    // downstream stopped it near 10, far below the 60 it was allowed.
    assert!(
        (6..=20).contains(&snapshot.max_concurrent),
        "limit {} after {} calls",
        snapshot.max_concurrent,
        snapshot.accepted
    );
    assert!(snapshot.rejected > 0);
}

#[test]
fn the_configuration_file_makes_a_bulkhead_adaptive() {
    let loaded = coord::config::load_str(
        "bulkheads:\n  adaptive.file: { max_concurrent: 100, adaptive: aimd }\n",
    )
    .unwrap();
    assert_eq!(loaded.bulkheads, ["adaptive.file"]);
    let bulkhead = coord::bulkhead("adaptive.file");
    let snapshot = bulkhead.snapshot();
    assert_eq!(snapshot.adaptive, Some(Algorithm::Aimd));
    assert_eq!((snapshot.ceiling, snapshot.max_concurrent), (100, 4));
    let config = bulkhead.config();
    assert_eq!(config.max_concurrent, 100);
    assert_eq!(config.adaptive, Some(AdaptiveLimit::aimd()));
    // The report shows the algorithm and the ceiling.
    let report = coord::report();
    assert!(report.to_string().contains("4 (aimd ≤ 100)"), "{report}");
    let prometheus = report.to_prometheus();
    assert!(
        prometheus.contains("coord_bulkhead_limit_ceiling{bulkhead=\"adaptive.file\"} 100"),
        "{prometheus}"
    );

    let error =
        coord::config::load_str("bulkheads:\n  adaptive.bad:\n    adaptive: vegs\n").unwrap_err();
    assert_eq!(error.location.map(|l| l.0), Some(3), "{error}");
    assert!(error.to_string().contains("vegas"), "{error}");
    assert!(coord::bulkheads::find("adaptive.bad").is_none());
}

#[test]
fn a_fixed_bulkhead_can_be_made_adaptive_and_back() {
    let bulkhead = coord::bulkhead_with(
        "adaptive.reconfigured",
        coord::BulkheadConfig::default().max_concurrent(8),
    )
    .unwrap();
    assert_eq!(bulkhead.snapshot().adaptive, None);
    bulkhead
        .configure(
            coord::BulkheadConfig::default()
                .max_concurrent(8)
                .adaptive(AdaptiveLimit::vegas().initial_limit(4)),
        )
        .unwrap();
    assert_eq!(bulkhead.max_concurrent(), 4);
    assert_eq!(bulkhead.snapshot().adaptive, Some(Algorithm::Vegas));
    bulkhead
        .configure(coord::BulkheadConfig::default().max_concurrent(8))
        .unwrap();
    assert_eq!(bulkhead.max_concurrent(), 8);
    assert_eq!(bulkhead.snapshot().adaptive, None);
}
