//! [`ServeConfig`]: the limits and the exposure settings of [`serve_with`](super::serve_with)
//! and `router_with`.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The shortest time-out a [`ServeConfig`] keeps: a zero time-out would close every connection
/// before it could be served.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// How coord serves: the server's limits and who may read the answers.
///
/// Every setting has a default fit for a metrics endpoint scraped by Prometheus and read by a
/// few people; [`serve`](super::serve) and `router()` use [`ServeConfig::default()`].
///
/// | setting | default | applies to |
/// |---|---|---|
/// | [`request_timeout`](Self::request_timeout) | 10 s | `serve_with` |
/// | [`header_timeout`](Self::header_timeout) | 5 s | `serve_with` |
/// | [`idle_timeout`](Self::idle_timeout) | 30 s | `serve_with` |
/// | [`max_connections`](Self::max_connections) | 256 | `serve_with` |
/// | [`probe_connections`](Self::probe_connections) | 8 | `serve_with` |
/// | [`max_requests_per_connection`](Self::max_requests_per_connection) | 1,000 | `serve_with` |
/// | [`max_pipelined`](Self::max_pipelined) | 16 | `serve_with` |
/// | [`max_concurrent_reports`](Self::max_concurrent_reports) | 16 | both |
/// | [`retry_after`](Self::retry_after) | 1 s | both |
/// | [`bearer_token`](Self::bearer_token) | none | both |
/// | [`chaos_token`](Self::chaos_token) | none: no `/chaos` route | both |
/// | [`allowed_hosts`](Self::allowed_hosts) | loopback names when bound to loopback, else any | both (`router_with`: any) |
/// | [`redact_errors`](Self::redact_errors) | on unless bound to loopback | both (`router_with`: on) |
/// | [`start_monitor`](Self::start_monitor) | on | both |
///
/// The time-outs and connection limits are the server's: a service that mounts
/// `router_with` sets them on its own server (hyper, or tower-http's layers).
///
/// ```
/// use std::time::Duration;
///
/// let config = coord::http::ServeConfig::default()
///     .request_timeout(Duration::from_secs(5))
///     .bearer_token("s3cret-token")
///     .allowed_hosts(["metrics.internal"]);
/// let server = coord::http::serve_with("127.0.0.1:0", config)?;
/// server.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub(crate) request_timeout: Duration,
    pub(crate) header_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) probe_connections: usize,
    pub(crate) max_requests_per_connection: usize,
    pub(crate) max_pipelined: usize,
    pub(crate) max_concurrent_reports: usize,
    pub(crate) retry_after: Duration,
    pub(crate) token: Option<Token>,
    pub(crate) chaos_token: Option<Token>,
    pub(crate) health_needs_token: bool,
    pub(crate) hosts: Hosts,
    pub(crate) redact: Option<bool>,
    pub(crate) start_monitor: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_connections: 256,
            probe_connections: 8,
            max_requests_per_connection: 1000,
            max_pipelined: 16,
            max_concurrent_reports: 16,
            retry_after: Duration::from_secs(1),
            token: None,
            chaos_token: None,
            health_needs_token: false,
            hosts: Hosts::Auto,
            redact: None,
            start_monitor: true,
        }
    }
}

impl ServeConfig {
    setters! {
        /// How long one request may take, from its complete head to the last byte of its answer
        /// handed to the network: a client that stops reading its answer loses the connection when
        /// this passes. Default 10 s; at least 1 ms.
        pub fn request_timeout(timeout: Duration) = max(MIN_TIMEOUT);

        /// How long a new connection may take to send its first complete request head. Default
        /// 5 s; at least 1 ms.
        pub fn header_timeout(timeout: Duration) = max(MIN_TIMEOUT);

        /// How long a keep-alive connection may stay open after an answer without sending the
        /// next complete request head. Default 30 s (Prometheus scrapes every 15 s by default and
        /// keeps its connection); at least 1 ms.
        pub fn idle_timeout(timeout: Duration) = max(MIN_TIMEOUT);

        /// Connections served at once. Past this, up to
        /// [`probe_connections`](Self::probe_connections) more are accepted for the health probe
        /// only, and every other new connection is answered `503 Service Unavailable` with
        /// `Retry-After` at once and closed. Default 256; at least 1.
        pub fn max_connections(max: usize) = max(1);

        /// Connections kept for the health probe (`/health`) once
        /// [`max_connections`](Self::max_connections) are open: each answers one request, and
        /// any other route gets `503` with `Retry-After`. Such a connection must send its request
        /// head within 1 s (or the [header time-out](Self::header_timeout) if shorter), so silent
        /// sockets cannot hold these slots long. Default 8; 0 keeps none.
        pub fn probe_connections(count: usize);

        /// Requests answered on one connection; the last answer carries `Connection: close`.
        /// Default 1,000; at least 1.
        pub fn max_requests_per_connection(max: usize) = max(1);

        /// Pipelined requests answered back to back on one connection: requests that were
        /// already sent while an earlier answer was being written. The answer that reaches the
        /// cap carries `Connection: close`, so a client that pipelines without reading gets at
        /// most this many answers. Default 16; at least 1.
        pub fn max_pipelined(max: usize) = max(1);

        /// `/metrics` and `/report.json` answers built or being sent at once (each holds one
        /// rendering of every registry in memory); past this, such requests get `503` with
        /// `Retry-After` at once. The health probe and the dashboard page are not counted.
        /// Default 16; at least 1.
        pub fn max_concurrent_reports(max: usize) = max(1);

        /// The `Retry-After` of every `503` the limits answer (whole seconds, at least 1).
        /// Default 1 s.
        pub fn retry_after(after: Duration);
    }

    /// Requires `Authorization: Bearer <token>` on every route but the health probe (see
    /// [`health_needs_token`](Self::health_needs_token)); a request without it, or with
    /// another token, gets `401 Unauthorized` with `WWW-Authenticate: Bearer`. Tokens are
    /// compared in constant time. An empty token accepts nothing. Default: no token.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token(Arc::from(token.into().into_bytes())));
        self
    }

    /// Serves the fault-injection route `/chaos` ([`coord::chaos`](crate::chaos)), which
    /// answers only `Authorization: Bearer <chaos token>`: `GET` lists the armed rules and the
    /// counts, `POST` arms the rules of its JSON body (the `chaos:` section of `coord.yaml`,
    /// at most 64 KiB), `DELETE` disarms every rule (`?name=payments`: that name's). Its own token, never the
    /// [read token](Self::bearer_token), which does not open it (nor does this one open the
    /// other routes); compared in constant time, an empty one accepts nothing. Without it
    /// (the default) `/chaos` is answered `404`, as a path that does not exist.
    pub fn chaos_token(mut self, token: impl Into<String>) -> Self {
        self.chaos_token = Some(Token(Arc::from(token.into().into_bytes())));
        self
    }

    /// Whether the health probe needs the [bearer token](Self::bearer_token) too. Default
    /// `false`: like Spring Boot's actuator, the probe answers anyone, so orchestrators need
    /// no credentials; its answer holds scores and rates, never error messages.
    pub fn health_needs_token(mut self, needs: bool) -> Self {
        self.health_needs_token = needs;
        self
    }

    /// The names the `Host` header (or an absolute request target) may carry, with any port
    /// unless one is given (`"metrics.internal"`, `"10.0.0.7:9898"`, `"[::1]"`); a request
    /// for another name gets `421 Misdirected Request`. This defends a dashboard on a
    /// developer's machine against DNS rebinding. Default: `localhost`, `127.0.0.1` and
    /// `[::1]` when `serve_with` binds a loopback address, any name otherwise and for
    /// `router_with`. See [`allow_any_host`](Self::allow_any_host).
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.hosts = Hosts::List(
            hosts
                .into_iter()
                .map(|h| HostName::parse(h.as_ref()))
                .collect(),
        );
        self
    }

    /// Answers requests whatever their `Host` header names (no DNS-rebinding defence).
    pub fn allow_any_host(mut self) -> Self {
        self.hosts = Hosts::Any;
        self
    }

    /// Whether error messages are kept out of `/report.json` and so the dashboard: each
    /// `message` and `last_error` reads `"<redacted>"` (the operation, error type, severity
    /// and counts stay). Error strings often carry what should not leave the process
    /// (`password=...`, customer data). Default: on, unless `serve_with` binds a loopback
    /// address; always on for `router_with`, which cannot know where it is served.
    pub fn redact_errors(mut self, redact: bool) -> Self {
        self.redact = Some(redact);
        self
    }

    /// Whether serving starts the process-wide [monitor](crate::monitor) (its `coord-monitor`
    /// thread samples this process and the machine once per `collection_interval`, and rolls
    /// the operations' windows). Default `true`: without it `/report.json` has no `system`
    /// section, `/metrics` no `coord_system_*`, `coord_process_*` and `coord_health_*` families,
    /// and the health probe cannot judge this process's CPU and memory (it says so). The monitor
    /// keeps running after the server stops; [`PerformanceMonitor::stop`](crate::PerformanceMonitor::stop)
    /// stops it. `false` leaves it to the program (`coord::monitor().start()`).
    pub fn start_monitor(mut self, start: bool) -> Self {
        self.start_monitor = start;
        self
    }

    /// Starts the monitor if this configuration asks for it (an entry point's first step).
    pub(crate) fn start_monitor_if_asked(&self) {
        if self.start_monitor {
            crate::compose::health::monitor().start();
        }
    }

    /// The settings that depend on the address served: `Hosts::Auto` and an unset redaction.
    pub(crate) fn resolve(mut self, bound: Option<IpAddr>) -> Self {
        let loopback = bound.is_some_and(|ip| ip.is_loopback());
        if matches!(self.hosts, Hosts::Auto) {
            self.hosts = if loopback {
                Hosts::List(
                    ["localhost", "127.0.0.1", "[::1]"]
                        .into_iter()
                        .map(HostName::parse)
                        .collect(),
                )
            } else {
                Hosts::Any
            };
        }
        self.redact.get_or_insert(!loopback);
        self
    }

    /// Whether errors are redacted (after [`resolve`](Self::resolve)).
    pub(crate) fn redacts(&self) -> bool {
        self.redact.unwrap_or(true)
    }

    /// The `Retry-After` value, whole seconds rounded up, at least 1.
    pub(crate) fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// A bearer token; never printed.
#[derive(Clone)]
pub(crate) struct Token(Arc<[u8]>);

impl Token {
    /// Whether `offered` is the token. The time taken depends on the lengths only, not on
    /// where the bytes differ.
    pub(crate) fn matches(&self, offered: &[u8]) -> bool {
        let expected: &[u8] = &self.0;
        if expected.is_empty() || expected.len() != offered.len() {
            return false;
        }
        let difference = expected
            .iter()
            .zip(offered)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        // Keeps the optimizer from turning the fold into an early-exit comparison.
        std::hint::black_box(difference) == 0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Which `Host` names are answered.
#[derive(Clone, Debug)]
pub(crate) enum Hosts {
    /// Decided by the address served (see [`ServeConfig::resolve`]).
    Auto,
    /// Any name.
    Any,
    /// These names only.
    List(Vec<HostName>),
}

impl Hosts {
    /// Whether a request naming `authority` (`host[:port]`, `None` when the request names
    /// none) is answered.
    pub(crate) fn allows(&self, authority: Option<&str>) -> bool {
        match self {
            Hosts::Auto | Hosts::Any => true,
            Hosts::List(names) => authority.is_some_and(|authority| {
                let offered = HostName::parse(authority);
                names.iter().any(|name| name.admits(&offered))
            }),
        }
    }
}

/// A host name (lower case, IPv6 addresses in brackets) and an optional port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HostName {
    host: String,
    port: Option<u16>,
}

impl HostName {
    pub(crate) fn parse(text: &str) -> HostName {
        let text = text.trim().to_ascii_lowercase();
        let (host, port) = match text.rfind(':') {
            // `[::1]:80` and `host:80` have a port; `[::1]` and a bare `::1` have none.
            Some(colon) if text[..colon].ends_with(']') || !text[..colon].contains(':') => {
                match text[colon + 1..].parse() {
                    Ok(port) => (text[..colon].to_owned(), Some(port)),
                    Err(_) => (text, None),
                }
            }
            _ => (text, None),
        };
        let host = if host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{host}]")
        } else {
            host
        };
        // A fully qualified `localhost.` names the same host as `localhost`.
        let host = host.strip_suffix('.').map(str::to_owned).unwrap_or(host);
        HostName { host, port }
    }

    /// Whether this allowed name admits the `offered` one: same host, and same port when this
    /// one names a port.
    fn admits(&self, offered: &HostName) -> bool {
        self.host == offered.host && self.port.is_none_or(|port| offered.port == Some(port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_parse_with_and_without_ports() {
        let p = HostName::parse;
        assert_eq!(
            p("LocalHost:8080"),
            HostName {
                host: "localhost".into(),
                port: Some(8080)
            }
        );
        assert_eq!(
            p("localhost."),
            HostName {
                host: "localhost".into(),
                port: None
            }
        );
        assert_eq!(
            p("[::1]:9898"),
            HostName {
                host: "[::1]".into(),
                port: Some(9898)
            }
        );
        assert_eq!(
            p("[::1]"),
            HostName {
                host: "[::1]".into(),
                port: None
            }
        );
        assert_eq!(
            p("::1"),
            HostName {
                host: "[::1]".into(),
                port: None
            }
        );
        assert_eq!(
            p("host:notaport"),
            HostName {
                host: "host:notaport".into(),
                port: None
            }
        );
    }

    #[test]
    fn loopback_binding_allows_loopback_names_only() {
        let config = ServeConfig::default().resolve(Some("127.0.0.1".parse().unwrap()));
        for ok in [
            "localhost",
            "localhost:9898",
            "127.0.0.1:1",
            "[::1]:80",
            "LOCALHOST",
        ] {
            assert!(config.hosts.allows(Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:9898",
            "localhost.evil.example",
            "127.0.0.2",
        ] {
            assert!(!config.hosts.allows(Some(bad)), "{bad}");
        }
        assert!(!config.hosts.allows(None));
        assert!(!config.redacts());
    }

    #[test]
    fn other_bindings_allow_any_name_and_redact() {
        let config = ServeConfig::default().resolve(Some("0.0.0.0".parse().unwrap()));
        assert!(config.hosts.allows(Some("anything")));
        assert!(config.hosts.allows(None));
        assert!(config.redacts());
        let router = ServeConfig::default().resolve(None);
        assert!(router.hosts.allows(Some("anything")));
        assert!(router.redacts());
    }

    #[test]
    fn a_listed_port_must_match() {
        let config = ServeConfig::default().allowed_hosts(["metrics.internal:9898", "other"]);
        assert!(config.hosts.allows(Some("metrics.internal:9898")));
        assert!(!config.hosts.allows(Some("metrics.internal:80")));
        assert!(!config.hosts.allows(Some("metrics.internal")));
        assert!(config.hosts.allows(Some("other:1234")));
    }

    #[test]
    fn tokens_match_exactly() {
        let token = Token(Arc::from(b"abc".as_slice()));
        assert!(token.matches(b"abc"));
        assert!(!token.matches(b"abd"));
        assert!(!token.matches(b"ab"));
        assert!(!token.matches(b"abcd"));
        assert!(!Token(Arc::from(b"".as_slice())).matches(b""));
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }

    #[test]
    fn limits_are_clamped_and_retry_after_rounds_up() {
        let config = ServeConfig::default()
            .max_connections(0)
            .request_timeout(Duration::ZERO)
            .retry_after(Duration::from_millis(1500));
        assert_eq!(config.max_connections, 1);
        assert_eq!(config.request_timeout, MIN_TIMEOUT);
        assert_eq!(config.retry_after_secs(), 2);
        assert_eq!(
            ServeConfig::default()
                .retry_after(Duration::ZERO)
                .retry_after_secs(),
            1
        );
    }
}
