//! A meter provider pushing OTLP, for applications that have none.

use std::collections::HashMap;
use std::fmt;

use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_otlp::{
    MetricExporter, WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

use super::env::{EnvError, OtlpConfig, Protocol};

/// Why [`init_from_env`] or [`init_with`] could not start the push.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// An `OTEL_*` variable has a value coord cannot use.
    #[error("cannot configure the OTLP push: {0}")]
    Env(#[from] EnvError),
    /// The OTLP exporter could not be built from the configuration.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
}

/// The OTLP push started by [`init_from_env`]: flushes what was collected last and shuts the
/// exporter down when dropped (or on [`shutdown`](Self::shutdown), which reports failures).
pub struct OtelGuard {
    provider: Option<SdkMeterProvider>,
    // Declared after the provider: gRPC's channel runs on it until the provider has shut down.
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for OtelGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelGuard")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// Starts pushing coord's metrics over OTLP as the standard variables say (see
/// [`OtlpConfig::from_env`]): a meter provider with a periodic reader every
/// `OTEL_METRIC_EXPORT_INTERVAL`, the resource of `OTEL_SERVICE_NAME` and
/// `OTEL_RESOURCE_ATTRIBUTES`, and coord's families [registered](super::register) on it. Keep
/// the guard for as long as the service runs; dropping it pushes a last time.
///
/// ```no_run
/// // OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 OTEL_SERVICE_NAME=checkout
/// let _otel = coord::otel::init_from_env()?;
/// # Ok::<(), coord::otel::InitError>(())
/// ```
pub fn init_from_env() -> Result<OtelGuard, InitError> {
    init_with(&OtlpConfig::from_env()?)
}

/// [`init_from_env`] with a configuration built or adjusted by the caller.
pub fn init_with(config: &OtlpConfig) -> Result<OtelGuard, InitError> {
    // Built on a thread of its own: the blocking HTTP client must not be created inside an
    // async runtime, and the caller may be in one.
    std::thread::scope(|scope| {
        scope
            .spawn(|| build(config))
            .join()
            .unwrap_or_else(|_| Err(InitError::Exporter("building the exporter panicked".into())))
    })
}

fn build(config: &OtlpConfig) -> Result<OtelGuard, InitError> {
    let failed = |e: opentelemetry_otlp::ExporterBuildError| InitError::Exporter(e.to_string());
    let (exporter, runtime) = match config.protocol {
        Protocol::HttpProtobuf => {
            // The blocking client the exporter would make, under one that adds exemplars.
            let client = reqwest::blocking::Client::builder()
                .timeout(config.timeout)
                .build()
                .map_err(|e| InitError::Exporter(format!("cannot build the HTTP client: {e}")))?;
            let exporter = MetricExporter::builder()
                .with_http()
                .with_http_client(super::exemplars::ExemplarClient::new(client))
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(config.endpoint.clone())
                .with_timeout(config.timeout)
                .with_headers(config.headers.iter().cloned().collect::<HashMap<_, _>>())
                .build()
                .map_err(failed)?;
            (exporter, None)
        }
        Protocol::Grpc => {
            // tonic's channel is a task: one small runtime of its own runs it.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("coord-otlp-grpc")
                .enable_all()
                .build()
                .map_err(|e| InitError::Exporter(format!("cannot start the gRPC runtime: {e}")))?;
            let _entered = runtime.enter();
            let mut headers = http::HeaderMap::new();
            for (key, value) in &config.headers {
                if let (Ok(key), Ok(value)) = (
                    http::HeaderName::from_bytes(key.as_bytes()),
                    http::HeaderValue::from_str(value),
                ) {
                    headers.append(key, value);
                }
            }
            let exporter = MetricExporter::builder()
                .with_tonic()
                .with_endpoint(config.endpoint.clone())
                .with_timeout(config.timeout)
                .with_metadata(
                    opentelemetry_otlp::tonic_types::metadata::MetadataMap::from_headers(headers),
                )
                .build()
                .map_err(failed)?;
            drop(_entered);
            (exporter, Some(runtime))
        }
    };
    let reader = PeriodicReader::builder(exporter)
        .with_interval(config.interval)
        .build();
    let resource = Resource::builder_empty()
        .with_service_name(config.service_name.clone())
        .with_attributes(
            config
                .resource_attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .build();
    let provider = SdkMeterProvider::builder()
        .with_view(super::view)
        .with_reader(reader)
        .with_resource(resource)
        .build();
    super::register(&provider.meter("coord"));
    Ok(OtelGuard {
        provider: Some(provider),
        runtime,
    })
}

impl OtelGuard {
    /// The meter provider, for the application's own instruments.
    pub fn provider(&self) -> Option<&SdkMeterProvider> {
        self.provider.as_ref()
    }

    /// Collects and pushes now.
    pub fn flush(&self) -> Result<(), OTelSdkError> {
        match &self.provider {
            Some(provider) => provider.force_flush(),
            None => Ok(()),
        }
    }

    /// Pushes a last time and stops, reporting a failure (dropping the guard does the same
    /// silently).
    pub fn shutdown(mut self) -> Result<(), OTelSdkError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), OTelSdkError> {
        let result = match self.provider.take() {
            Some(provider) => provider.shutdown(),
            None => Ok(()),
        };
        if let Some(runtime) = self.runtime.take() {
            // Dropping a runtime blocks, which tokio forbids inside another runtime.
            runtime.shutdown_background();
        }
        result
    }
}

impl Drop for OtelGuard {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
