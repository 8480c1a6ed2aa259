//! coord's metrics pushed over OTLP with one call, configured by the standard `OTEL_*`
//! variables, after a reference workload that uses every mechanism.
//!
//! `cargo run --features otel --example otel` checks itself: it pushes (http/protobuf) to a
//! small receiver of its own and checks that every family and the workload's series arrived.
//! With `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._METRICS_ENDPOINT`) set, it pushes there instead,
//! over `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` or `grpc`), and prints what it expects
//! the receiver to hold (`.ci/observability` checks rotel's log against it).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

#[path = "otel/workload.rs"]
mod workload;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    workload::run().await;
    let mut config = coord::otel::OtlpConfig::from_env()?;
    let external = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    if external {
        let guard = coord::otel::init_with(&config)?;
        guard.shutdown()?;
        print_expectations(&config);
        return Ok(());
    }

    // A receiver of one OTLP/HTTP request: answers 200 with an empty (valid) response.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    config.endpoint = format!("http://{}/v1/metrics", listener.local_addr()?);
    config.protocol = coord::otel::Protocol::HttpProtobuf;
    let (sent, received) = mpsc::channel();
    std::thread::spawn(move || -> std::io::Result<()> {
        let (stream, _) = listener.accept()?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let (mut length, mut content_type) = (0, String::new());
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if let Some(v) = line.strip_prefix("content-type:") {
                content_type = v.trim().to_owned();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        (&stream)
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")?;
        let _ = sent.send((content_type, body));
        Ok(())
    });
    let guard = coord::otel::init_with(&config)?;
    guard.shutdown()?;
    let (content_type, body) = received.recv_timeout(std::time::Duration::from_secs(10))?;
    assert_eq!(content_type, "application/x-protobuf");
    // Protobuf keeps strings as they are: every name and attribute value is in the payload.
    let has = |text: &str| body.windows(text.len()).any(|w| w == text.as_bytes());
    for (name, unit) in coord::otel::instruments() {
        assert!(has(name), "{name} was not pushed");
        assert!(has(unit), "{name}'s unit {unit} was not pushed");
    }
    for (_, attributes, _) in workload::EXPECTED {
        for (_, value) in *attributes {
            assert!(has(value), "{value} was not pushed");
        }
    }
    println!(
        "pushed {} bytes of OTLP with all {} coord families",
        body.len(),
        coord::otel::instruments().count()
    );
    Ok(())
}

/// For `.ci/observability`: one line per family (`family NAME UNIT`), per expected value
/// (`value NAME key=value,... VALUE`) and per histogram bucket (`bucket NAME LE COUNT`).
fn print_expectations(config: &coord::otel::OtlpConfig) {
    println!("service {}", config.service_name);
    for (name, unit) in coord::otel::instruments() {
        println!("family {name} {unit}");
    }
    for (name, attributes, value) in workload::EXPECTED {
        let attributes: Vec<String> = attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("value {name} {} {value}", attributes.join(","));
    }
    for (le, count) in workload::CHECKOUT_BUCKETS {
        println!("bucket coord_operation_duration {le} {count}");
    }
    println!(
        "count coord_operation_duration {}",
        workload::CHECKOUT_COUNT
    );
    println!("sum coord_operation_duration {}", workload::CHECKOUT_SUM);
}
