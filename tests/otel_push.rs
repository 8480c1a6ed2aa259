//! `coord::otel::init_with` failing loudly: a push nobody receives is an error at shutdown,
//! over both protocols, and a bad `OTEL_*` variable is refused before anything starts.

/// A port nothing listens on (bound, read, released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// A push nobody receives fails in `shutdown` (within the configured timeout), over both
/// protocols; a bad variable is refused before anything starts, naming the variable.
#[test]
fn failures_are_reported_not_hidden() {
    for protocol in ["http/protobuf", "grpc"] {
        let port = free_port().to_string();
        let vars = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{port}"),
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "500".to_owned()),
        ];
        let config = coord::otel::OtlpConfig::from_vars(|name| {
            vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.into())
        })
        .unwrap();
        let guard = coord::otel::init_with(&config).unwrap();
        assert!(
            guard.shutdown().is_err(),
            "{protocol}: a push to a closed port succeeded"
        );
    }
    let error = coord::otel::OtlpConfig::from_vars(|name| {
        (name == "OTEL_METRIC_EXPORT_INTERVAL").then(|| "soon".into())
    })
    .unwrap_err();
    let error = coord::otel::InitError::from(error);
    assert!(
        error
            .to_string()
            .contains("OTEL_METRIC_EXPORT_INTERVAL=\"soon\""),
        "{error}"
    );
}
