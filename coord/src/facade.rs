//! Forwarding to the [`metrics`](https://docs.rs/metrics) facade (cargo feature `metrics`).
//!
//! With the feature on, every measurement coord records is also sent to whatever `metrics`
//! recorder the application installed, under the same names as the Prometheus exposition.
//! Handles are resolved on an operation's first measurement and cached, so install the recorder
//! before the first instrumented call. Without the feature every type here is zero-sized and every
//! call compiles to nothing.

#[cfg(feature = "metrics")]
mod imp {
    use std::sync::OnceLock;

    use crate::perf::Outcome;

    struct Handles {
        duration: metrics::Histogram,
        success: metrics::Counter,
        failure: metrics::Counter,
        cancelled: metrics::Counter,
    }

    /// The cached `metrics` handles of one operation.
    #[derive(Default)]
    pub(crate) struct OperationMetrics {
        handles: OnceLock<Handles>,
    }

    impl OperationMetrics {
        #[inline]
        pub(crate) fn record(&self, operation: &str, nanos: u64, outcome: Outcome) {
            let handles = self.handles.get_or_init(|| {
                let calls = |outcome: &'static str| {
                    metrics::counter!(
                        "coord_operation_calls_total",
                        "operation" => operation.to_owned(),
                        "outcome" => outcome
                    )
                };
                Handles {
                    duration: metrics::histogram!(
                        "coord_operation_duration_seconds",
                        "operation" => operation.to_owned()
                    ),
                    success: calls("success"),
                    failure: calls("failure"),
                    cancelled: calls("cancelled"),
                }
            });
            handles.duration.record(nanos as f64 / 1e9);
            match outcome {
                Outcome::Success => handles.success.increment(1),
                Outcome::Failure => handles.failure.increment(1),
                Outcome::Cancelled => handles.cancelled.increment(1),
            }
        }
    }
}

#[cfg(not(feature = "metrics"))]
mod imp {
    use crate::perf::Outcome;

    /// Zero-sized without the `metrics` feature.
    #[derive(Default)]
    pub(crate) struct OperationMetrics;

    impl OperationMetrics {
        #[inline(always)]
        pub(crate) fn record(&self, _operation: &str, _nanos: u64, _outcome: Outcome) {}
    }
}

pub(crate) use imp::OperationMetrics;
