//! coord's families as instruments of the application's meter.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{AsyncInstrumentBuilder, Histogram, Meter};
use opentelemetry_sdk::metrics::{Instrument, Stream};

use super::families::{FAMILIES, otel_name};
use super::parse::{self, Labels, Samples, Series};
use crate::contract::exposition::Family;
use crate::perf::EXPORT_BOUNDS;

/// What the callbacks of one registration share: the samples of the collection in progress
/// (read once, by the first callback) and, per histogram series, the counts already recorded.
struct Shared {
    state: Mutex<State>,
    /// The histogram instrument of each family index that is a histogram.
    histograms: Vec<Option<Histogram<f64>>>,
}

#[derive(Default)]
struct State {
    samples: Samples,
    /// Per histogram family, the series as last recorded.
    recorded: HashMap<usize, HashMap<Labels, Series>>,
}

/// Reports coord's metric families through `meter`: an observable instrument per counter and
/// gauge family, read at each collection, and per latency histogram an explicit-bucket
/// histogram with coord's own bounds ([`EXPORT_BOUNDS`](crate::perf::EXPORT_BOUNDS), in
/// seconds), fed at each collection with the calls recorded since the previous one, so its
/// bucket counts are coord's, not re-bucketed.
///
/// Names are those of the Prometheus exposition without `_total` and the unit suffix, which
/// OpenTelemetry carries as the unit (`coord_operation_duration`, unit `s`;
/// `coord_operation_calls`, unit `{call}`): translated back to Prometheus by a collector or
/// Prometheus' own OTLP receiver, they are the `/metrics` names. Labels become attributes of
/// the same names.
///
/// With the `tower` feature it also creates OpenTelemetry's HTTP semantic-convention
/// histograms (`http.server.request.duration`, `http.client.request.duration`), which every
/// `coord::tower::CoordLayer` records its requests into as they end.
///
/// The registries are read the way [`report()`](crate::report()) reads them, once per
/// collection and never blocking a recorder. Register once per meter provider; the instruments
/// report for as long as the provider lives.
///
/// The values recorded into the histogram stand for coord's calls: each is inside the bucket of
/// the calls it stands for, and together they add up to coord's sum, so counts, buckets and sum
/// are exact, while the histogram's min and max are those stand-ins (coord's own extremes are in
/// the report). After [`coord::reset()`](crate::reset()) the counters report coord's counts
/// from zero again (a backend reads the drop as a counter reset), while a histogram series,
/// which the SDK only adds to, keeps its earlier calls and adds those recorded since.
///
/// ```no_run
/// use opentelemetry::metrics::MeterProvider as _;
/// # fn provider() -> opentelemetry_sdk::metrics::SdkMeterProvider { unimplemented!() }
/// let provider = provider(); // the application's SdkMeterProvider
/// coord::otel::register(&provider.meter("coord"));
/// ```
pub fn register(meter: &Meter) {
    // The tower layer's semantic-convention histograms (`otel/http.rs`), recorded per request.
    #[cfg(feature = "tower")]
    super::http::register(meter);
    let bounds: Vec<f64> = EXPORT_BOUNDS.iter().map(|b| b.as_secs_f64()).collect();
    let histograms = FAMILIES
        .iter()
        .map(|m| {
            m.is_counter().is_none().then(|| {
                meter
                    .f64_histogram(otel_name(m.name))
                    .with_description(m.help())
                    .with_unit(m.unit())
                    .with_boundaries(bounds.clone())
                    .build()
            })
        })
        .collect();
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        histograms,
    });

    // Registered first, so its callback runs first in every collection (the SDK runs them in
    // registration order, all before it aggregates): it reads the registries once and records
    // the histograms' new calls. It observes nothing, so it is never exported.
    let driver = Arc::clone(&shared);
    meter
        .u64_observable_gauge("coord_otel_collection")
        .with_callback(move |_| driver.collect())
        .build();

    for (index, m) in FAMILIES.iter().enumerate() {
        let name = otel_name(m.name);
        let shared = Arc::clone(&shared);
        match m.is_counter() {
            Some(true) if m.unit() == "s" => {
                observing(meter.f64_observable_counter(name), m, shared, index, |v| v).build();
            }
            Some(true) => {
                observing(meter.u64_observable_counter(name), m, shared, index, |v| {
                    v as u64
                })
                .build();
            }
            Some(false) => {
                observing(meter.f64_observable_gauge(name), m, shared, index, |v| v).build();
            }
            None => {}
        }
    }
}

/// `builder` (an observable instrument of family `m`) with the family's help and unit, observing
/// at each collection the family's samples, each as `value` converts it.
fn observing<'a, I, M: 'static>(
    builder: AsyncInstrumentBuilder<'a, I, M>,
    m: &Family,
    shared: Arc<Shared>,
    index: usize,
    value: fn(f64) -> M,
) -> AsyncInstrumentBuilder<'a, I, M> {
    builder
        .with_description(m.help())
        .with_unit(m.unit())
        .with_callback(move |obs| shared.each(index, |v, a| obs.observe(value(v), a)))
}

/// The most series one of coord's instruments keeps per collection with [`view`]: above every
/// family at coord's default caps (10,000 breakers × 5 states is the largest).
pub const CARDINALITY_LIMIT: usize = 1 << 17;

/// A view for `SdkMeterProviderBuilder::with_view` that lifts the SDK's default limit of 2,000
/// series per instrument (past it, series are folded into one `otel.metric.overflow` series)
/// to [`CARDINALITY_LIMIT`] for coord's instruments (those of a meter named `coord`), and leaves
/// every other instrument alone. [`init_from_env`](super::init_from_env) installs it; an
/// application with 700 operations (3 outcomes each) or more needs it in its own provider.
///
/// ```no_run
/// use coord::otel::opentelemetry_sdk::metrics::SdkMeterProvider;
/// let provider = SdkMeterProvider::builder().with_view(coord::otel::view).build();
/// ```
pub fn view(instrument: &Instrument) -> Option<Stream> {
    if instrument.scope().name() != "coord" || !instrument.name().starts_with("coord_") {
        return None;
    }
    Stream::builder()
        .with_cardinality_limit(CARDINALITY_LIMIT)
        .build()
        .ok()
}

/// The name and unit of every instrument [`register`] creates: each mechanism's families in
/// the order of coord's mechanism list, then the report's own (a family appears in an export
/// once it has a sample).
pub fn instruments() -> impl Iterator<Item = (&'static str, &'static str)> {
    FAMILIES.iter().map(|m| (otel_name(m.name), m.unit()))
}

fn attributes(labels: &Labels) -> Vec<KeyValue> {
    labels
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect()
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in a callback leaves only samples behind, which the next collection replaces.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the registries and records the histograms' calls since the previous collection.
    fn collect(&self) {
        let samples = parse::parse(&crate::report::build().to_prometheus());
        let mut state = self.lock();
        let State { recorded, .. } = &mut *state;
        for (index, series) in samples.histograms.iter().enumerate() {
            let Some(Some(histogram)) = self.histograms.get(index) else {
                continue;
            };
            let recorded = recorded.entry(index).or_default();
            for (labels, now) in series {
                let before = recorded.get(labels);
                if before == Some(now) {
                    continue;
                }
                let attrs = attributes(labels);
                for (value, count) in stand_ins(&new_calls(before, now)) {
                    for _ in 0..count {
                        histogram.record(value, &attrs);
                    }
                }
                recorded.insert(labels.clone(), now.clone());
            }
            // Series gone from the registries (a name evicted or reset, a keyed breaker's
            // key dropped) are forgotten too, so this map stays as large as the exposition.
            if recorded.len() > series.len() {
                let present: HashSet<&Labels> = series.iter().map(|(labels, _)| labels).collect();
                recorded.retain(|labels, _| present.contains(labels));
            }
        }
        state.samples = samples;
    }

    /// Calls `observe` with each sample of the family `index` of the current collection.
    fn each(&self, index: usize, mut observe: impl FnMut(f64, &[KeyValue])) {
        let state = self.lock();
        for (labels, value) in state.samples.scalars.get(index).into_iter().flatten() {
            if value.is_finite() {
                observe(*value, &attributes(labels));
            }
        }
    }
}

/// Calls per bucket (the last one above every bound) and their sum, since `before`; all of
/// `now` when coord was reset in between.
fn new_calls(before: Option<&Series>, now: &Series) -> (Vec<u64>, f64) {
    let per_bucket = |s: &Series| -> Vec<u64> {
        let mut previous = 0;
        s.cumulative
            .iter()
            .map(|&c| {
                let n = c.saturating_sub(previous);
                previous = c;
                n
            })
            .collect()
    };
    let now_buckets = per_bucket(now);
    match before {
        Some(b) if b.count <= now.count && b.cumulative.len() == now.cumulative.len() => {
            let before_buckets = per_bucket(b);
            if now_buckets.iter().zip(&before_buckets).all(|(n, b)| n >= b) {
                let delta = now_buckets
                    .iter()
                    .zip(&before_buckets)
                    .map(|(n, b)| n - b)
                    .collect();
                return (delta, now.sum - b.sum);
            }
            (now_buckets, now.sum)
        }
        _ => (now_buckets, now.sum),
    }
}

/// A value inside each bucket standing for its calls, with the values adding up to the sum
/// when the sum is possible: `(value, calls)` per bucket with calls.
fn stand_ins((counts, sum): &(Vec<u64>, f64)) -> Vec<(f64, u64)> {
    let bounds: Vec<f64> = EXPORT_BOUNDS.iter().map(|b| b.as_secs_f64()).collect();
    let last = bounds.last().copied().unwrap_or(0.0);
    let finite = counts.len().min(bounds.len());
    let interval = |i: usize| {
        let low = if i == 0 { 0.0 } else { bounds[i - 1] };
        (low, bounds[i])
    };
    let overflow = counts.get(bounds.len()).copied().unwrap_or(0);
    let (low_sum, width_sum) = (0..finite).fold((0.0, 0.0), |(l, w), i| {
        let (low, high) = interval(i);
        let c = counts[i] as f64;
        (l + c * low, w + c * (high - low))
    });
    // Where in its bucket each value sits (0 low, 1 high), the same for all buckets.
    let at = if overflow == 0 && width_sum > 0.0 && sum.is_finite() {
        ((sum - low_sum) / width_sum).clamp(1e-6, 1.0)
    } else {
        0.5
    };
    let mut out = Vec::new();
    let mut finite_sum = 0.0;
    for (i, &count) in counts.iter().enumerate().take(finite) {
        if count > 0 {
            let (low, high) = interval(i);
            let value = low + at * (high - low);
            finite_sum += value * count as f64;
            out.push((value, count));
        }
    }
    if overflow > 0 {
        let rest = (sum - finite_sum) / overflow as f64;
        let above = last * (1.0 + 1e-9);
        out.push((
            if rest.is_finite() {
                rest.max(above)
            } else {
                above
            },
            overflow,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket_of(value: f64) -> usize {
        EXPORT_BOUNDS.partition_point(|b| b.as_secs_f64() < value)
    }

    #[test]
    fn stand_ins_stay_in_their_buckets_and_add_up() {
        let mut counts = vec![0u64; EXPORT_BOUNDS.len() + 1];
        counts[0] = 3; // <= 100 us
        counts[4] = 2; // (1 ms, 2 ms]
        let sum = 3.0 * 0.00005 + 2.0 * 0.0015;
        let values = stand_ins(&(counts.clone(), sum));
        assert_eq!(values.len(), 2);
        let mut total = 0.0;
        for (value, count) in &values {
            total += value * *count as f64;
        }
        assert!((total - sum).abs() < 1e-12, "{total} vs {sum}");
        assert_eq!(bucket_of(values[0].0), 0);
        assert_eq!(bucket_of(values[1].0), 4);
    }

    #[test]
    fn impossible_sums_still_keep_the_buckets() {
        let mut counts = vec![0u64; EXPORT_BOUNDS.len() + 1];
        counts[2] = 1;
        counts[EXPORT_BOUNDS.len()] = 2;
        for sum in [0.0, 1e9, f64::NAN] {
            let values = stand_ins(&(counts.clone(), sum));
            assert_eq!(bucket_of(values[0].0), 2, "{sum}");
            assert_eq!(bucket_of(values[1].0), EXPORT_BOUNDS.len(), "{sum}");
            assert_eq!(values[1].1, 2);
        }
    }

    #[test]
    fn new_calls_are_the_difference_or_everything_after_a_reset() {
        let s = |cumulative: Vec<u64>, sum: f64| Series {
            count: *cumulative.last().unwrap(),
            cumulative,
            sum,
        };
        let before = s(vec![1, 3, 3], 1.0);
        assert_eq!(
            new_calls(Some(&before), &s(vec![2, 5, 6], 3.0)),
            (vec![1, 1, 1], 2.0)
        );
        assert_eq!(
            new_calls(Some(&before), &s(vec![0, 1, 1], 0.5)),
            (vec![0, 1, 0], 0.5)
        );
        assert_eq!(new_calls(None, &before), (vec![1, 2, 0], 1.0));
    }
}
