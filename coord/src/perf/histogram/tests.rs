//! The histogram's bucket layout, error bound, memory and concurrency, checked.

use super::*;
use proptest::prelude::*;

#[test]
fn every_bucket_holds_its_own_values() {
    for index in 0..BUCKETS {
        let (low, high) = bucket_range(index);
        assert_eq!(bucket_of(low), index, "low of {index}");
        assert_eq!(bucket_of(high), index, "high of {index}");
        assert_eq!(bucket_range(index + 1).0, high + 1, "contiguous at {index}");
    }
    assert_eq!(bucket_of(MAX_TRACKED_NANOS - 1), BUCKETS - 1);
    assert_eq!(bucket_of(MAX_TRACKED_NANOS), OVERFLOW);
    assert_eq!(bucket_of(u64::MAX), OVERFLOW);
}

#[test]
fn the_range_covers_more_than_a_day() {
    assert!(MAX_TRACKED > Duration::from_secs(36 * 3600));
    assert_eq!(MAX_TRACKED.as_nanos(), 1u128 << 47);
}

#[test]
fn bucket_width_stays_within_the_error_bound() {
    for index in PER_CHUNK..BUCKETS {
        let (low, high) = bucket_range(index);
        assert!(((high - low + 1) as f64) / (low as f64) <= RELATIVE_ERROR + 1e-12);
    }
}

#[test]
fn an_unused_histogram_allocates_nothing() {
    let h = AtomicHistogram::new();
    assert_eq!(h.heap_bytes(), 0);
    let s = h.snapshot();
    assert_eq!(s.count(), 0);
    assert_eq!(
        s.buckets.capacity(),
        0,
        "snapshot of an unused histogram allocated"
    );
    assert_eq!(s, Snapshot::default());
    assert_eq!(Snapshot::default().buckets.capacity(), 0);
}

#[test]
fn one_value_allocates_one_chunk() {
    let h = AtomicHistogram::new();
    h.record(1_000, 0);
    h.record(1_001, 1);
    assert_eq!(std::mem::size_of::<Chunk>(), 512);
    assert_eq!(h.heap_bytes(), 512);
    // With `otel`, the exemplar slots' pointer (allocated only by a sampled call).
    #[cfg(feature = "otel")]
    let exemplars = std::mem::size_of::<exemplar::Exemplars>();
    #[cfg(not(feature = "otel"))]
    let exemplars = 0;
    assert_eq!(
        std::mem::size_of::<AtomicHistogram>(),
        CHUNKS * 16 + 8 + exemplars
    );
    h.record(u64::MAX, 0);
    assert_eq!(h.heap_bytes(), 512, "overflow needs no chunk");
    for power in 0..64 {
        h.record(1 << power, power as usize);
    }
    assert_eq!(h.heap_bytes(), CHUNKS * 512);
}

#[test]
fn shards_are_summed() {
    let h = AtomicHistogram::new();
    h.record(1_000, 0);
    h.record(1_000, 1);
    h.record(5_000, 7);
    let s = h.snapshot();
    assert_eq!(s.count(), 3);
    assert!(s.quantile(1.0).unwrap() >= 4_900);
}

#[test]
fn export_bounds_are_one_two_five_to_an_hour() {
    let secs: Vec<f64> = EXPORT_BOUNDS.iter().map(Duration::as_secs_f64).collect();
    assert_eq!(&secs[..4], &[0.0001, 0.0002, 0.0005, 0.001]);
    assert_eq!(&secs[20..], &[500.0, 1000.0, 2000.0, 3600.0]);
    assert!(secs.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn export_buckets_are_cumulative_and_hold_the_maximum() {
    let h = AtomicHistogram::new();
    h.record(50_000, 0); // 50 µs
    h.record(150_000, 0); // 150 µs
    h.record(3_000_000, 1); // 3 ms
    let slow = 90_000_000_000; // 90 s
    h.record(slow, 1);
    let b = h.snapshot().export_buckets(50_000, slow);
    assert_eq!(&b[..3], &[1, 2, 2]); // 100 µs, 200 µs, 500 µs
    assert_eq!(b[5], 3); // 5 ms
    assert_eq!(b[17], 3); // 50 s
    assert_eq!(b[18], 4); // 100 s holds the 90 s call
    assert_eq!(b[23], 4);
    // Past the tracked range: only +Inf (not exported here) holds it.
    let h = AtomicHistogram::new();
    h.record(u64::MAX, 0);
    assert_eq!(h.snapshot().export_buckets(u64::MAX, u64::MAX), [0; 24]);
    assert_eq!(Snapshot::default().export_buckets(u64::MAX, 0), [0; 24]);
}

#[test]
fn quantiles_of_an_empty_histogram_are_none() {
    assert_eq!(Snapshot::default().quantile(0.5), None);
}

#[test]
fn diff_forgets_earlier_counts() {
    let h = AtomicHistogram::new();
    h.record(10, 0);
    let first = h.snapshot();
    h.record(1_000, 0);
    h.record(1_000, 1);
    let window = h.snapshot().since(&first);
    assert_eq!(window.count(), 2);
    assert_eq!(
        window.quantile(0.0),
        Some(h.snapshot().quantile(1.0).unwrap())
    );
}

#[test]
fn diff_and_add_are_inverse() {
    let h = AtomicHistogram::new();
    for v in [10, 500, 500, 70_000, u64::MAX] {
        h.record(v, 0);
    }
    let first = h.snapshot();
    for v in [10, 3_000, u64::MAX, 1 << 40] {
        h.record(v, 1);
    }
    let second = h.snapshot();
    let delta = second.since(&first);
    assert_eq!(delta.count(), 4);
    assert_eq!(delta.overflow(), 1);
    let mut rebuilt = first.clone();
    for (index, count) in delta.nonzero() {
        rebuilt.add(index, count);
    }
    assert_eq!(rebuilt, second);
    // A reset in between: nothing goes negative.
    assert_eq!(first.since(&second), Snapshot::default());
}

#[test]
fn values_beyond_the_range_are_reported_as_the_bound() {
    let h = AtomicHistogram::new();
    h.record(1_000, 0);
    h.record(u64::MAX, 0);
    h.record(MAX_TRACKED_NANOS, 1);
    let s = h.snapshot();
    assert_eq!(s.count(), 3);
    assert_eq!(s.overflow(), 2);
    assert_eq!(s.quantile(1.0), Some(MAX_TRACKED_NANOS));
    assert_eq!(s.quantile(0.5), Some(MAX_TRACKED_NANOS));
    assert!(s.quantile(0.0).unwrap() < 1_100);
    assert_eq!(
        s.buckets().last(),
        Some((MAX_TRACKED_NANOS, u64::MAX, 2)),
        "the top bucket"
    );
}

#[test]
fn sums_saturate() {
    let sum = AtomicU64::new(0);
    add_saturating(&sum, u64::MAX - 1);
    add_saturating(&sum, 1);
    assert_eq!(sum.load(Relaxed), u64::MAX);
    add_saturating(&sum, 5);
    assert_eq!(sum.load(Relaxed), u64::MAX);
    let sum = AtomicU64::new(10);
    add_saturating(&sum, u64::MAX);
    assert_eq!(sum.load(Relaxed), u64::MAX);
}

#[test]
fn counts_add_up_under_concurrent_recording() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 50_000;
    let h = AtomicHistogram::new();
    let value = |t: u64, i: u64| {
        if i.is_multiple_of(5) {
            u64::MAX - i
        } else {
            (i * 7_919 + t * 104_729) % (1 << 40)
        }
    };
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let h = &h;
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    h.record(value(t, i), crate::perf::shard::current());
                }
            });
        }
    });
    let mut expected = Snapshot::default();
    for t in 0..THREADS {
        for i in 0..PER_THREAD {
            expected.add(bucket_of(value(t, i)), 1);
        }
    }
    let s = h.snapshot();
    assert_eq!(s.count(), THREADS * PER_THREAD);
    assert_eq!(s, expected);
}

/// Values spread evenly over the powers of two of the whole range and beyond.
fn any_nanos() -> impl Strategy<Value = u64> {
    (0u32..64, any::<u64>()).prop_map(|(power, bits)| {
        let high = 1u64 << power;
        high | (bits & (high - 1))
    })
}

/// Whether `reported` stands for `exact` within the documented bound.
fn within_bound(reported: u64, exact: u64) -> bool {
    if exact >= MAX_TRACKED_NANOS {
        reported == MAX_TRACKED_NANOS
    } else if exact < 64 {
        reported.abs_diff(exact) <= 1
    } else {
        reported.abs_diff(exact) as f64 <= RELATIVE_ERROR * exact as f64
    }
}

proptest! {
    #[test]
    fn one_value_is_reported_within_the_bound(nanos in any_nanos()) {
        let h = AtomicHistogram::new();
        h.record(nanos, 0);
        let reported = h.snapshot().quantile(0.5).unwrap();
        prop_assert!(within_bound(reported, nanos), "{nanos} reported as {reported}");
    }

    #[test]
    fn quantiles_are_within_the_bound(
        mut values in prop::collection::vec(any_nanos(), 1..200),
        q in 0.0f64..=1.0,
    ) {
        let h = AtomicHistogram::new();
        for (i, &v) in values.iter().enumerate() {
            h.record(v, i);
        }
        values.sort_unstable();
        let exact = values[(rank(q, values.len() as u64) - 1) as usize];
        let reported = h.snapshot().quantile(q).unwrap();
        prop_assert!(within_bound(reported, exact), "q{q}: {exact} reported as {reported}");
    }
}

#[test]
fn an_hour_and_a_day_and_more_are_reported() {
    let op = crate::perf::global().operation_handle("histogram.tests.long");
    for hours in [1, 25] {
        op.record(
            Duration::from_secs(hours * 3600),
            crate::outcome::Outcome::Success,
        );
    }
    let stats = op.stats();
    let close = |reported: Duration, hours: u64| {
        let exact = Duration::from_secs(hours * 3600).as_secs_f64();
        (reported.as_secs_f64() - exact).abs() <= RELATIVE_ERROR * exact
    };
    assert!(close(stats.p50, 1), "p50 {:?}", stats.p50);
    assert!(close(stats.p99, 25), "p99 {:?}", stats.p99);
    assert_eq!(stats.max, Duration::from_secs(25 * 3600));
    assert_eq!(stats.total, Duration::from_secs(26 * 3600));
    assert_eq!(op.histogram().overflow(), 0);
}

#[test]
fn duration_max_saturates() {
    let op = crate::perf::global().operation_handle("histogram.tests.duration_max");
    op.record(Duration::from_secs(1), crate::outcome::Outcome::Success);
    op.record(Duration::MAX, crate::outcome::Outcome::Success);
    op.record(Duration::MAX, crate::outcome::Outcome::Failure);
    let stats = op.stats();
    assert_eq!(stats.calls, 3);
    assert_eq!(stats.total, Duration::from_nanos(u64::MAX), "total wrapped");
    assert_eq!(stats.max, Duration::from_nanos(u64::MAX));
    assert_eq!(
        stats.p99, MAX_TRACKED,
        "reported as the bound: ≥ MAX_TRACKED"
    );
    assert!(stats.p50 >= MAX_TRACKED);
    assert_eq!(op.histogram().overflow(), 2);
}
