//! Exemplars (feature `otel`): a call that finishes in a sampled span leaves its trace id and
//! span id on its latency bucket, served as OpenMetrics to a scraper that asks for it; the
//! OpenMetrics text is checked line by line against the format's grammar.

use std::io::{Read, Write};
use std::time::Duration;

use coord::otel::opentelemetry::trace::{TraceContextExt as _, TraceFlags, TracerProvider as _};
use coord::otel::opentelemetry_sdk::trace::SdkTracerProvider;
use coord::perf::Outcome;
use coord::track_performance;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

#[path = "support/remote_context.rs"]
mod remote_context;
use remote_context::remote;

/// The bucket line of `operation` whose `le` is `le`.
fn bucket_line(text: &str, operation: &str, le: &str) -> String {
    let prefix = format!(
        "coord_operation_duration_seconds_bucket{{operation=\"{operation}\",le=\"{le}\"}} "
    );
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .to_owned()
}

#[test]
fn a_sampled_opentelemetry_span_leaves_its_ids_on_the_bucket() {
    let op = coord::monitor().operation_handle("exemplars_test.api");
    {
        let _sampled = remote(
            0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
            0x00f0_67aa_0ba9_02b7,
            TraceFlags::SAMPLED,
        )
        .attach();
        op.record(Duration::from_millis(3), Outcome::Success);
    }
    {
        let _unsampled = remote(0x1111, 0x2222, TraceFlags::default()).attach();
        op.record(Duration::from_millis(3), Outcome::Success);
        op.record(Duration::from_millis(30), Outcome::Failure);
    }
    op.record(Duration::from_millis(30), Outcome::Success);

    let om = coord::report().to_openmetrics();
    assert!(
        bucket_line(&om, "exemplars_test.api", "0.005").contains(
            " 2 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",span_id=\"00f067aa0ba902b7\"} 0.003 "
        ),
        "{om}"
    );
    // Calls outside a sampled span leave no exemplar.
    assert!(
        !bucket_line(&om, "exemplars_test.api", "0.05").contains('#'),
        "{om}"
    );
    assert!(!om.contains("00000000000000000000000000001111"), "{om}");
    // The 0.0.4 text never carries exemplars.
    let text = coord::report().to_prometheus();
    assert_eq!(
        bucket_line(&text, "exemplars_test.api", "0.005"),
        "coord_operation_duration_seconds_bucket{operation=\"exemplars_test.api\",le=\"0.005\"} 2"
    );
}

#[track_performance("exemplars_test.tracked")]
fn tracked(x: u64) -> Result<u64, std::io::Error> {
    Ok(x + 1)
}

#[test]
fn a_tracing_span_under_tracing_opentelemetry_leaves_its_ids() {
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("exemplars-test")));
    let (trace_id, span_id) = tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request");
        let _entered = span.enter();
        tracked(1).unwrap();
        let context = span.context();
        let ids = context.span().span_context().clone();
        assert!(ids.is_sampled(), "the SDK's default sampler samples");
        (ids.trace_id().to_string(), ids.span_id().to_string())
    });
    let om = coord::report().to_openmetrics();
    let exemplar = format!("# {{trace_id=\"{trace_id}\",span_id=\"{span_id}\"}} ");
    let line = om
        .lines()
        .find(|l| {
            l.starts_with(
                "coord_operation_duration_seconds_bucket{operation=\"exemplars_test.tracked\",",
            ) && l.contains(&exemplar)
        })
        .unwrap_or_else(|| panic!("no bucket with {exemplar} in\n{om}"));
    // The call is in this bucket's count.
    let count: u64 = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    assert!(count >= 1, "{line}");
}

/// `GET /metrics` with `accept`; returns the content type and the body.
fn get_metrics(addr: std::net::SocketAddr, accept: Option<&str>) -> (String, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("\r\nvary: accept"), "{head}");
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap()
        .to_owned();
    (content_type, body.to_owned())
}

#[test]
fn metrics_follows_accept_on_the_hyper_server() {
    let server = coord::http::serve("127.0.0.1:0").unwrap();
    check_negotiation(server.local_addr(), "exemplars_test.served");
    server.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follows_accept_on_the_axum_router() {
    let app = axum::Router::new().merge(coord::http::router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move { axum::serve(listener, app).await });
    tokio::task::spawn_blocking(move || check_negotiation(addr, "exemplars_test.axum"))
        .await
        .unwrap();
    served.abort();
}

/// Records a call of `operation` in a sampled span, then checks what `/metrics` at `addr`
/// answers to Prometheus's `Accept`, to OpenMetrics alone and to the others.
fn check_negotiation(addr: std::net::SocketAddr, operation: &str) {
    let op = coord::monitor().operation_handle(operation);
    {
        let _sampled = remote(0xabcd, 0xef, TraceFlags::SAMPLED).attach();
        op.record(Duration::from_micros(150), Outcome::Success);
    }
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    for accept in [prometheus, "application/openmetrics-text"] {
        let (content_type, body) = get_metrics(addr, Some(accept));
        assert_eq!(
            content_type,
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        assert!(body.ends_with("# EOF\n"));
        assert!(
            bucket_line(&body, operation, "0.0002").contains(
                "# {trace_id=\"0000000000000000000000000000abcd\",span_id=\"00000000000000ef\"} 0.00015 "
            ),
            "{body}"
        );
        check_openmetrics(&body);
    }
    for accept in [
        None,
        Some("text/plain"),
        Some("*/*"),
        Some("application/openmetrics-text;q=0"),
    ] {
        let (content_type, body) = get_metrics(addr, accept);
        assert_eq!(
            content_type, "text/plain; version=0.0.4; charset=utf-8",
            "{accept:?}"
        );
        assert!(
            !body.contains("trace_id") && !body.contains("# EOF"),
            "{accept:?}"
        );
        assert!(body.contains("# TYPE coord_operation_calls_total counter\n"));
    }
}

#[test]
fn the_whole_openmetrics_report_follows_the_grammar() {
    let op = coord::monitor().operation_handle("exemplars_test.grammar \"quoted\"\nline");
    {
        let _sampled = remote(0x77, 0x88, TraceFlags::SAMPLED).attach();
        op.record(Duration::from_secs(7200), Outcome::Success);
        op.record(Duration::from_millis(1), Outcome::Failure);
    }
    check_openmetrics(&coord::report().to_openmetrics());
}

/// Checks `text` against OpenMetrics 1.0's text grammar as far as coord's families use it:
/// each family's `# HELP` and `# TYPE` once, before its samples, under the family's name
/// (a counter's without `_total`); samples named after their family (`_total` for counters,
/// `_bucket`/`_sum`/`_count` for histograms); exemplars only on `_bucket` lines, with a
/// label set of at most 128 characters, a value and a timestamp; `# EOF` last, once.
fn check_openmetrics(text: &str) {
    let mut seen = std::collections::HashSet::new();
    let mut family: Option<(String, String)> = None;
    let mut lines = text.lines().peekable();
    let mut eof = false;
    while let Some(line) = lines.next() {
        assert!(!eof, "a line after # EOF: {line}");
        if line == "# EOF" {
            eof = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(seen.insert(name.to_owned()), "family {name} twice");
            let next = lines.next().unwrap_or_default();
            let (kind_name, kind) = next
                .strip_prefix("# TYPE ")
                .and_then(|t| t.split_once(' '))
                .unwrap_or_else(|| panic!("HELP without TYPE: {next}"));
            assert_eq!(kind_name, name);
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{next}");
            assert!(!name.ends_with("_total") || kind != "counter", "{next}");
            family = Some((name.to_owned(), kind.to_owned()));
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment: {line}");
        let (name, kind) = family
            .as_ref()
            .unwrap_or_else(|| panic!("sample before TYPE: {line}"));
        let (sample, exemplar) = match line.split_once(" # ") {
            Some((sample, exemplar)) => (sample, Some(exemplar)),
            None => (line, None),
        };
        let metric = sample.split(['{', ' ']).next().unwrap_or_default();
        let suffix = metric
            .strip_prefix(name.as_str())
            .unwrap_or_else(|| panic!("{metric} outside family {name}"));
        let allowed: &[&str] = match kind.as_str() {
            "counter" => &["_total"],
            "gauge" => &[""],
            _ => &["_bucket", "_sum", "_count"],
        };
        assert!(allowed.contains(&suffix), "{metric} in {kind} {name}");
        let value = sample.rsplit(' ').next().unwrap_or_default();
        assert!(
            value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
            "value {value}: {line}"
        );
        if let Some(exemplar) = exemplar {
            assert_eq!(suffix, "_bucket", "exemplar off a bucket: {line}");
            let (labels, rest) = exemplar
                .strip_prefix('{')
                .and_then(|e| e.split_once("} "))
                .unwrap_or_else(|| panic!("exemplar labels: {line}"));
            assert!(labels.chars().count() <= 128, "{line}");
            assert!(
                labels.starts_with("trace_id=\"") && labels.contains("\",span_id=\""),
                "{line}"
            );
            let parts: Vec<&str> = rest.split(' ').collect();
            assert_eq!(parts.len(), 2, "exemplar value and timestamp: {line}");
            assert!(parts.iter().all(|p| p.parse::<f64>().is_ok()), "{line}");
        }
    }
    assert!(eof, "no # EOF");
    assert!(text.ends_with("# EOF\n"));
}
