//! Exemplars over OTLP (http/protobuf): the OpenTelemetry SDK 0.33 leaves every data point's
//! exemplars empty and offers no way to give it any (no metric-producer hook; data points have
//! private fields and no constructor). So the push's HTTP client, which receives the encoded
//! request, decodes it, gives each bucket of `coord_operation_duration` the latest exemplar
//! coord kept for it (trace id, span id, value, time), and sends it on with the blocking client
//! the exporter would have used. A request it cannot read (compressed, or not protobuf) goes on
//! unchanged. The gRPC push has no such seam (tonic encodes inside its channel): it carries no
//! exemplars.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, HistogramDataPoint, exemplar, metric};
use prost::Message as _;

use super::families::otel_name;

/// The push's HTTP client: adds exemplars, then sends with `inner`.
pub(super) struct ExemplarClient {
    inner: reqwest::blocking::Client,
    /// The latest point time of the last request sent: an exemplar older than that was sent
    /// already (with the default cumulative temporality every point starts at the process's
    /// start, so the point's own interval cannot tell).
    sent_up_to: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for ExemplarClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExemplarClient").finish_non_exhaustive()
    }
}

impl ExemplarClient {
    pub(super) fn new(inner: reqwest::blocking::Client) -> Self {
        Self {
            inner,
            sent_up_to: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

type Sent<'a> = Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'a>>;

impl HttpClient for ExemplarClient {
    // The signature `#[async_trait]` gives the trait's method.
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        mut request: Request<Bytes>,
    ) -> Sent<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        use std::sync::atomic::Ordering::Relaxed;
        let plain = request
            .headers()
            .get(http::header::CONTENT_ENCODING)
            .is_none();
        if plain
            && let Some((body, up_to)) =
                with_exemplars(request.body(), self.sent_up_to.load(Relaxed))
        {
            *request.body_mut() = Bytes::from(body);
            self.sent_up_to.fetch_max(up_to, Relaxed);
        }
        self.inner.send_bytes(request)
    }
}

/// `body` with exemplars on coord's latency buckets (only those newer than `after`, in
/// nanoseconds since the epoch), and the latest point time in it; `None` when it is not a
/// request this can read or nothing was added.
fn with_exemplars(body: &[u8], after: u64) -> Option<(Vec<u8>, u64)> {
    let mut request = ExportMetricsServiceRequest::decode(body).ok()?;
    let latency = otel_name(crate::perf::section::OPERATION_DURATION_SECONDS.name);
    let mut added = false;
    let mut up_to = after;
    let points = request
        .resource_metrics
        .iter_mut()
        .flat_map(|r| r.scope_metrics.iter_mut())
        .flat_map(|s| s.metrics.iter_mut())
        .filter(|m| m.name == latency)
        .filter_map(|m| match &mut m.data {
            Some(metric::Data::Histogram(histogram)) => Some(&mut histogram.data_points),
            _ => None,
        })
        .flatten();
    for point in points {
        up_to = up_to.max(point.time_unix_nano);
        added |= add_to(point, after);
    }
    added.then(|| (request.encode_to_vec(), up_to))
}

/// Gives `point` the latest exemplar of each of its buckets that counted calls, when that
/// exemplar falls within the point's time (a delta point's interval) and after `after` (not
/// sent before).
fn add_to(point: &mut HistogramDataPoint, after: u64) -> bool {
    let operation =
        point
            .attributes
            .iter()
            .find_map(|a| match a.value.as_ref()?.value.as_ref()? {
                any_value::Value::StringValue(name) if a.key == "operation" => Some(name.as_str()),
                _ => None,
            });
    let Some(operation) = operation.and_then(crate::perf::exemplars_of) else {
        return false;
    };
    let before = point.exemplars.len();
    for (slot, kept) in operation {
        let counted = point.bucket_counts.get(slot).is_some_and(|&n| n > 0);
        let fresh = kept.unix_nanos > after && kept.unix_nanos >= point.start_time_unix_nano;
        if counted && fresh {
            point.exemplars.push(Exemplar {
                filtered_attributes: Vec::new(),
                time_unix_nano: kept.unix_nanos,
                span_id: kept.span_id.to_vec(),
                trace_id: kept.trace_id.to_vec(),
                value: Some(exemplar::Value::AsDouble(kept.nanos as f64 / 1e9)),
            });
        }
    }
    point.exemplars.len() > before
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use opentelemetry_proto::tonic::metrics::v1::{
        Histogram, Metric, ResourceMetrics, ScopeMetrics,
    };

    fn request(operation: &str, counts: Vec<u64>) -> Vec<u8> {
        let point = HistogramDataPoint {
            attributes: vec![KeyValue {
                key: "operation".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(operation.into())),
                }),
                ..Default::default()
            }],
            bucket_counts: counts,
            ..Default::default()
        };
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "coord_operation_duration".into(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: vec![point],
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn a_bucket_that_counted_calls_gets_its_exemplar() {
        use opentelemetry::trace::{
            SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
        };
        let operation = crate::perf::resolve("otel.unit.exemplar");
        {
            let _sampled = opentelemetry::Context::new()
                .with_remote_span_context(SpanContext::new(
                    TraceId::from(0xabcd_u128),
                    SpanId::from(0x1234_u64),
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::default(),
                ))
                .attach();
            operation.record(
                std::time::Duration::from_millis(3),
                crate::outcome::Outcome::Success,
            );
        }
        // 3 ms lands in the (2 ms, 5 ms] bucket, the fifth bound's.
        let slot = crate::perf::EXPORT_BOUNDS
            .iter()
            .position(|b| *b >= std::time::Duration::from_millis(3))
            .unwrap();
        let mut counts = vec![0; crate::perf::EXPORT_BOUNDS.len() + 1];
        counts[slot] = 1;
        let (body, _) = with_exemplars(&request("otel.unit.exemplar", counts.clone()), 0).unwrap();
        let decoded = ExportMetricsServiceRequest::decode(&body[..]).unwrap();
        let Some(metric::Data::Histogram(histogram)) =
            &decoded.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            panic!("a histogram");
        };
        let exemplars = &histogram.data_points[0].exemplars;
        assert_eq!(exemplars.len(), 1);
        assert_eq!(exemplars[0].trace_id, 0xabcd_u128.to_be_bytes());
        assert_eq!(exemplars[0].span_id, 0x1234_u64.to_be_bytes());
        assert_eq!(exemplars[0].value, Some(exemplar::Value::AsDouble(0.003)));
        // Sent already (a cumulative point of a later push): not again.
        let sent = exemplars[0].time_unix_nano;
        assert_eq!(
            with_exemplars(&request("otel.unit.exemplar", counts.clone()), sent),
            None
        );
        // A point whose bucket counted nothing this interval gets none.
        counts[slot] = 0;
        assert_eq!(
            with_exemplars(&request("otel.unit.exemplar", counts), 0),
            None
        );
    }

    #[test]
    fn nothing_to_add_leaves_the_request_alone() {
        assert_eq!(with_exemplars(b"not protobuf \xff\xff", 0), None);
        // An operation coord never saw.
        assert_eq!(
            with_exemplars(&request("otel.unit.unknown", vec![1; 26]), 0),
            None
        );
    }
}
