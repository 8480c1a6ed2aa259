//! Reported percentiles stay within the histogram's error bound of the exact percentile.

use std::time::Duration;

use proptest::prelude::*;

fn exact(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn within_bound(reported: Duration, exact: u64) -> bool {
    let reported = reported.as_nanos() as f64;
    let exact = exact as f64;
    // Small values are exact; the +1 ns covers midpoint rounding of two-value buckets.
    (reported - exact).abs() <= exact * coord::perf::RELATIVE_ERROR + 1.0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn percentiles_match_exact_ones(
        values in prop::collection::vec(
            prop_oneof![0u64..1_000, 100u64..100_000_000, 1_000_000_000u64..60_000_000_000],
            1..400,
        ),
        case in any::<u64>(),
    ) {
        let name = format!("props.percentiles.{case}.{}", values.len());
        let op = coord::monitor().operation_handle(&name);
        for &v in &values {
            op.record(Duration::from_nanos(v), coord::perf::Outcome::Success);
        }
        let stats = op.stats();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        for (reported, q) in [(stats.p50, 0.5), (stats.p90, 0.9), (stats.p95, 0.95), (stats.p99, 0.99), (stats.p999, 0.999)] {
            let want = exact(&sorted, q);
            prop_assert!(within_bound(reported, want), "q={q}: reported {reported:?}, exact {want} ns");
        }
        prop_assert_eq!(stats.min, Duration::from_nanos(sorted[0]));
        prop_assert_eq!(stats.max, Duration::from_nanos(*sorted.last().unwrap()));
        prop_assert_eq!(stats.calls, values.len() as u64);
    }
}
