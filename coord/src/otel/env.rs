//! The standard OpenTelemetry environment variables for an OTLP metric exporter, checked.

use std::ffi::OsString;
use std::time::Duration;

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// `http/protobuf`: protobuf over HTTP `POST <endpoint>/v1/metrics` (the default, port 4318).
    HttpProtobuf,
    /// `grpc`: the OTLP gRPC service (port 4317).
    Grpc,
}

/// The OTLP push configuration read from `OTEL_*` variables (see [`OtlpConfig::from_env`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OtlpConfig {
    /// `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else
    /// `http/protobuf`.
    pub protocol: Protocol,
    /// The URL pushed to: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as given, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (with `/v1/metrics` appended for HTTP), else
    /// `http://localhost:4318/v1/metrics` or `http://localhost:4317`.
    pub endpoint: String,
    /// `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds),
    /// else 10 s.
    pub timeout: Duration,
    /// `OTEL_EXPORTER_OTLP_METRICS_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`
    /// (`key=value,...`, values percent-decoded).
    pub headers: Vec<(String, String)>,
    /// `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds), else 60 s.
    pub interval: Duration,
    /// `OTEL_SERVICE_NAME`, else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else
    /// `unknown_service`.
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES` (`key=value,...`, values percent-decoded), without
    /// `service.name`.
    pub resource_attributes: Vec<(String, String)>,
}

/// A variable whose value coord cannot use: which one, its value, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?}: {}", .kind.why())]
#[non_exhaustive]
pub struct EnvError {
    /// The variable's name.
    pub variable: &'static str,
    /// Its value (lossily decoded when it is not Unicode).
    pub value: String,
    /// Why it was refused.
    pub kind: EnvErrorKind,
}

/// Why a variable was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvErrorKind {
    /// The value is not valid Unicode.
    NotUnicode,
    /// Not one of `http/protobuf`, `grpc` (`http/json` is refused too: coord's histograms are
    /// sent as protobuf).
    UnsupportedProtocol,
    /// Not an `http://host[:port][/path]` URL (TLS is not built in: no `https`).
    NotAnHttpUrl,
    /// Not a whole number of milliseconds greater than zero.
    NotMilliseconds,
    /// Not a `key=value,...` list with non-empty keys and valid percent-encoding.
    NotAKeyValueList,
}

impl EnvErrorKind {
    fn why(self) -> &'static str {
        match self {
            EnvErrorKind::NotUnicode => "not valid Unicode",
            EnvErrorKind::UnsupportedProtocol => {
                "not a supported OTLP protocol (expected `http/protobuf` or `grpc`)"
            }
            EnvErrorKind::NotAnHttpUrl => {
                "not an `http://host[:port][/path]` URL (https is not built in)"
            }
            EnvErrorKind::NotMilliseconds => "not a whole number of milliseconds greater than zero",
            EnvErrorKind::NotAKeyValueList => {
                "not a `key=value,...` list (non-empty keys, values percent-encoded)"
            }
        }
    }
}

const PROTOCOL: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
];
const METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const TIMEOUT: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
];
const HEADERS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "OTEL_EXPORTER_OTLP_HEADERS",
];
const INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

impl OtlpConfig {
    /// Reads the process environment (see the fields for the variables and defaults).
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// Reads the variables through `lookup` (name to value) instead of the environment; an
    /// empty value counts as unset, as the specification says.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self, EnvError> {
        let get = |variable: &'static str| -> Result<Option<(&'static str, String)>, EnvError> {
            match lookup(variable) {
                None => Ok(None),
                Some(raw) => match raw.into_string() {
                    Ok(value) if value.trim().is_empty() => Ok(None),
                    Ok(value) => Ok(Some((variable, value.trim().to_owned()))),
                    Err(raw) => Err(EnvError {
                        variable,
                        value: raw.to_string_lossy().into_owned(),
                        kind: EnvErrorKind::NotUnicode,
                    }),
                },
            }
        };
        let first = |names: [&'static str; 2]| -> Result<Option<(&'static str, String)>, EnvError> {
            Ok(match get(names[0])? {
                Some(found) => Some(found),
                None => get(names[1])?,
            })
        };
        let refuse = |(variable, value): (&'static str, String), kind| EnvError {
            variable,
            value,
            kind,
        };

        let protocol = match first(PROTOCOL)? {
            None => Protocol::HttpProtobuf,
            Some((_, v)) if v == "http/protobuf" => Protocol::HttpProtobuf,
            Some((_, v)) if v == "grpc" => Protocol::Grpc,
            Some(found) => return Err(refuse(found, EnvErrorKind::UnsupportedProtocol)),
        };
        let endpoint = match (get(METRICS_ENDPOINT)?, get(ENDPOINT)?) {
            (Some(found), _) => checked_url(found)?,
            (None, Some(found)) => {
                let base = checked_url(found)?;
                match protocol {
                    Protocol::HttpProtobuf => format!("{}/v1/metrics", base.trim_end_matches('/')),
                    Protocol::Grpc => base,
                }
            }
            (None, None) => match protocol {
                Protocol::HttpProtobuf => "http://localhost:4318/v1/metrics".to_owned(),
                Protocol::Grpc => "http://localhost:4317".to_owned(),
            },
        };
        let millis = |found: Option<(&'static str, String)>, default: u64| match found {
            None => Ok(Duration::from_millis(default)),
            Some(found) => match found.1.parse::<u64>() {
                Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                _ => Err(refuse(found, EnvErrorKind::NotMilliseconds)),
            },
        };
        let timeout = millis(first(TIMEOUT)?, 10_000)?;
        let interval = millis(get(INTERVAL)?, 60_000)?;
        let headers = match first(HEADERS)? {
            None => Vec::new(),
            Some(found) => key_values(&found.1)
                .filter(|pairs| pairs.iter().all(|(k, v)| is_header(k, v)))
                .ok_or_else(|| refuse(found, EnvErrorKind::NotAKeyValueList))?,
        };
        let mut resource_attributes = match get(RESOURCE_ATTRIBUTES)? {
            None => Vec::new(),
            Some(found) => {
                key_values(&found.1).ok_or_else(|| refuse(found, EnvErrorKind::NotAKeyValueList))?
            }
        };
        let from_attributes = resource_attributes
            .iter()
            .position(|(k, _)| k == "service.name")
            .map(|i| resource_attributes.remove(i).1);
        let service_name = get(SERVICE_NAME)?
            .map(|(_, v)| v)
            .or(from_attributes)
            .unwrap_or_else(|| "unknown_service".to_owned());
        Ok(Self {
            protocol,
            endpoint,
            timeout,
            headers,
            interval,
            service_name,
            resource_attributes,
        })
    }
}

/// `http://host[:port][/path]`, returned as given.
fn checked_url((variable, value): (&'static str, String)) -> Result<String, EnvError> {
    let authority = value
        .strip_prefix("http://")
        .map(|rest| rest.split('/').next().unwrap_or(""));
    let valid = authority.is_some_and(|authority| {
        let (host, port) = match authority.rsplit_once(':') {
            // An IPv6 literal's colons are inside its brackets.
            Some((host, port)) if !port.contains(']') => (host, Some(port)),
            _ => (authority, None),
        };
        !host.is_empty()
            && !host.contains(['@', ' ', '?', '#'])
            && port.is_none_or(|p| p.parse::<u16>().is_ok())
    });
    if valid {
        Ok(value)
    } else {
        Err(EnvError {
            variable,
            value,
            kind: EnvErrorKind::NotAnHttpUrl,
        })
    }
}

/// `key=value,...` with percent-decoded keys and values; `None` when malformed.
fn key_values(text: &str) -> Option<Vec<(String, String)>> {
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let (key, value) = item.split_once('=')?;
            let key = percent_decode(key.trim())?;
            if key.is_empty() {
                return None;
            }
            Some((key, percent_decode(value.trim())?))
        })
        .collect()
}

/// A header name of token characters and a value of visible ASCII, spaces and tabs (what HTTP
/// and gRPC metadata carry).
fn is_header(key: &str, value: &str) -> bool {
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<OtlpConfig, EnvError> {
        OtlpConfig::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    fn refused(vars: &[(&str, &str)]) -> (&'static str, EnvErrorKind) {
        let e = config(vars).unwrap_err();
        assert!(e.to_string().starts_with(e.variable), "{e}");
        (e.variable, e.kind)
    }

    #[test]
    fn defaults() {
        let c = config(&[]).unwrap();
        assert_eq!(c.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.endpoint, "http://localhost:4318/v1/metrics");
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.interval, Duration::from_secs(60));
        assert_eq!(c.service_name, "unknown_service");
        let grpc = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap();
        assert_eq!(grpc.endpoint, "http://localhost:4317");
    }

    #[test]
    fn everything_set() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/base/"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "250"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b, x=1"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attrs,deployment.environment=test",
            ),
            ("OTEL_SERVICE_NAME", " checkout "),
        ])
        .unwrap();
        assert_eq!(c.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.endpoint, "http://127.0.0.1:9/base/v1/metrics");
        assert_eq!(c.timeout, Duration::from_millis(250));
        assert_eq!(c.interval, Duration::from_millis(500));
        assert_eq!(
            c.headers,
            vec![("api-key".into(), "a b".into()), ("x".into(), "1".into())]
        );
        assert_eq!(c.service_name, "checkout");
        assert_eq!(
            c.resource_attributes,
            vec![("deployment.environment".into(), "test".into())]
        );
        let signal = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:1"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://[::1]:4318/custom",
            ),
        ])
        .unwrap();
        assert_eq!(signal.endpoint, "http://[::1]:4318/custom");
        let named = config(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=svc")]).unwrap();
        assert_eq!(named.service_name, "svc");
    }

    #[test]
    fn an_empty_value_is_unset() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", ""),
            ("OTEL_METRIC_EXPORT_INTERVAL", " "),
        ]);
        assert_eq!(c.unwrap().interval, Duration::from_secs(60));
    }

    #[test]
    fn each_kind_of_bad_value_names_its_variable() {
        use EnvErrorKind::*;
        let cases: &[(&str, &[&str], EnvErrorKind)] = &[
            (
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                &["http/json"],
                UnsupportedProtocol,
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
                &["udp"],
                UnsupportedProtocol,
            ),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                &[
                    "localhost:4318",
                    "https://collector:4318",
                    "http://",
                    "http://h:99999",
                    "http://u@h",
                ],
                NotAnHttpUrl,
            ),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                &["ftp://x"],
                NotAnHttpUrl,
            ),
            (
                "OTEL_EXPORTER_OTLP_TIMEOUT",
                &["abc", "0", "-5", "1.5"],
                NotMilliseconds,
            ),
            ("OTEL_METRIC_EXPORT_INTERVAL", &["1m"], NotMilliseconds),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                &["novalue", "=v", "k=%zz", "k=%ff"],
                NotAKeyValueList,
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                &["a=1,b", "bad key=1", "k=line%0Abreak"],
                NotAKeyValueList,
            ),
        ];
        for &(variable, values, kind) in cases {
            for value in values {
                assert_eq!(
                    refused(&[(variable, value)]),
                    (variable, kind),
                    "{variable}={value}"
                );
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_unicode_values_are_refused() {
        use std::os::unix::ffi::OsStringExt;
        let e = OtlpConfig::from_vars(|name| {
            (name == "OTEL_SERVICE_NAME").then(|| OsString::from_vec(vec![0xff, b'x']))
        })
        .unwrap_err();
        assert_eq!(
            (e.variable, e.kind),
            ("OTEL_SERVICE_NAME", EnvErrorKind::NotUnicode)
        );
    }
}
