//! The Redis backend of shared rate limiters: one per URL, process-wide. Blocking connections
//! (the `redis` crate's, with socket timeouts) in a small pool for synchronous callers, one
//! helper thread for async callers, the GCRA script called by its hash, and the health that
//! decides when Redis is tried again after a failure.

use std::collections::HashMap;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::{Ask, Failure, Grant, SCRIPT};

/// The first back-off after a failure; it doubles up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(50);
/// The longest back-off: how long at most a recovered Redis waits to be used again.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Idle connections kept per backend.
const MAX_IDLE: usize = 32;
/// How much a pooled connection's socket timeout may exceed a call's remaining time before
/// it is lowered (one `setsockopt` saved per call on the common path).
const TIMEOUT_SLACK: Duration = Duration::from_millis(1);

/// Checks that `url` is one the `redis` crate can connect to, without connecting.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    redis::Client::open(url)
        .map(drop)
        .map_err(|error| error.to_string())
}

static BACKENDS: LazyLock<Mutex<HashMap<String, Arc<Backend>>>> = LazyLock::new(Default::default);

/// A connection and the read timeout its socket has now.
struct Conn {
    con: redis::Connection,
    timeout: Duration,
}

/// A job for the helper thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// One Redis, shared by every limiter naming its URL.
pub(crate) struct Backend {
    client: redis::Client,
    hash: String,
    idle: Mutex<Vec<Conn>>,
    origin: Instant,
    /// Nanoseconds since `origin` before which Redis is not tried (0: healthy).
    down_until: AtomicU64,
    failures: AtomicU32,
    script_loads: AtomicU64,
    helper: OnceLock<Option<Mutex<Sender<Job>>>>,
}

impl Backend {
    /// The backend of `url`, made on first use (no connection is made until a call).
    pub(crate) fn for_url(url: &str) -> Result<Arc<Self>, String> {
        let mut backends = BACKENDS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(backend) = backends.get(url) {
            return Ok(Arc::clone(backend));
        }
        let client = redis::Client::open(url)
            .map_err(|error| format!("`{}` is not a Redis URL: {error}", super::redact(url)))?;
        let backend = Arc::new(Self {
            client,
            hash: redis::Script::new(SCRIPT).get_hash().to_owned(),
            idle: Mutex::new(Vec::new()),
            origin: Instant::now(),
            down_until: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            script_loads: AtomicU64::new(0),
            helper: OnceLock::new(),
        });
        backends.insert(url.to_owned(), Arc::clone(&backend));
        Ok(backend)
    }

    fn now(&self) -> u64 {
        super::super::nanos(self.origin.elapsed()).max(1)
    }

    /// Whether a round trip should be made now: always while healthy; in back-off, only by
    /// the one caller that claims the probe once the back-off is over.
    pub(crate) fn try_begin(&self) -> bool {
        let until = self.down_until.load(Acquire);
        if until == 0 {
            return true;
        }
        let now = self.now();
        if now < until {
            return false;
        }
        // The probe's own time-out is covered by the next back-off step.
        let next = now.saturating_add(super::super::nanos(self.backoff()));
        self.down_until
            .compare_exchange(until, next, AcqRel, Relaxed)
            .is_ok()
    }

    /// Nanoseconds until Redis is tried again (0 while healthy).
    pub(crate) fn retry_in_nanos(&self) -> u64 {
        self.down_until.load(Relaxed).saturating_sub(self.now())
    }

    /// Whether Redis answered the last round trip.
    pub(crate) fn is_up(&self) -> bool {
        self.down_until.load(Relaxed) == 0
    }

    /// Times the script was loaded again after `NOSCRIPT`.
    pub(crate) fn script_loads(&self) -> u64 {
        self.script_loads.load(Relaxed)
    }

    fn backoff(&self) -> Duration {
        let doublings = self.failures.load(Relaxed).saturating_sub(1).min(10);
        BASE_BACKOFF.saturating_mul(1 << doublings).min(MAX_BACKOFF)
    }

    fn failed(&self, failure: &Failure) {
        let failures = self.failures.fetch_add(1, Relaxed);
        let until = self
            .now()
            .saturating_add(super::super::nanos(self.backoff()));
        self.down_until.store(until, Release);
        // Every idle connection is suspect (a restarted Redis broke them all).
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        if failures == 0 {
            tracing::warn!(
                target: "coord::rate_limit",
                failure = %failure,
                "Redis of shared rate limiters gave no answer; deciding calls locally until it does"
            );
        }
    }

    fn succeeded(&self) {
        if self.down_until.load(Relaxed) != 0 || self.failures.load(Relaxed) != 0 {
            self.failures.store(0, Relaxed);
            self.down_until.store(0, Release);
            tracing::info!(
                target: "coord::rate_limit",
                "Redis of shared rate limiters answers again; sharing resumed"
            );
        }
    }

    /// One admission: `EVALSHA` (with a reload on `NOSCRIPT`), within `ask.deadline`.
    pub(crate) fn eval(&self, ask: &Ask<'_>) -> Result<Grant, Failure> {
        // Out of time before asking (an async caller's round trip queued behind slow ones):
        // not Redis's failure, so no back-off.
        remaining(ask.deadline)?;
        let result = self.take(ask.deadline).and_then(|mut conn| {
            let result = self.eval_on(&mut conn, ask);
            // A time-out or broken pipe leaves the connection mid-reply: never reuse it.
            if result.is_ok() {
                self.give(conn);
            }
            result
        });
        match &result {
            Ok(_) => self.succeeded(),
            Err(failure) => self.failed(failure),
        }
        result
    }

    fn eval_on(&self, conn: &mut Conn, ask: &Ask<'_>) -> Result<Grant, Failure> {
        match self.evalsha(conn, ask) {
            Err(error) if error.code() == Some("NOSCRIPT") => {
                self.script_loads.fetch_add(1, Relaxed);
                fit_timeout(conn, ask.deadline)?;
                let _: String = redis::cmd("SCRIPT")
                    .arg("LOAD")
                    .arg(SCRIPT)
                    .query(&mut conn.con)
                    .map_err(failure)?;
                self.evalsha(conn, ask).map_err(failure)
            }
            result => result.map_err(failure),
        }
    }

    fn evalsha(&self, conn: &mut Conn, ask: &Ask<'_>) -> redis::RedisResult<Grant> {
        fit_timeout(conn, ask.deadline).map_err(|_| timeout_error())?;
        let (admitted, wait_us): (i64, i64) = redis::cmd("EVALSHA")
            .arg(&self.hash)
            .arg(1)
            .arg(ask.key)
            .arg(ask.interval_us)
            .arg(ask.tolerance_us)
            .arg(ask.max_wait_us)
            .arg(ask.want)
            .query(&mut conn.con)?;
        Ok(Grant {
            admitted: u64::try_from(admitted).unwrap_or(0),
            wait_us: u64::try_from(wait_us).unwrap_or(0),
        })
    }

    /// An idle connection, or a new one made within the deadline.
    fn take(&self, deadline: Instant) -> Result<Conn, Failure> {
        if let Some(conn) = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
        {
            return Ok(conn);
        }
        let remaining = remaining(deadline)?;
        let con = self
            .client
            .get_connection_with_timeout(remaining)
            .map_err(failure)?;
        let mut conn = Conn {
            con,
            timeout: Duration::ZERO,
        };
        set_timeout(&mut conn, remaining)?;
        Ok(conn)
    }

    fn give(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// Runs `job` on the backend's helper thread (started on first use); `false` if there is
    /// none (the thread could not be started, or it is gone).
    pub(crate) fn spawn(&self, job: Job) -> bool {
        let helper = self.helper.get_or_init(|| {
            let (sender, receiver) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("coord-redis".into())
                .spawn(move || {
                    for job in receiver {
                        job();
                    }
                })
                .ok()
                .map(|_| Mutex::new(sender))
        });
        helper.as_ref().is_some_and(|sender| {
            sender
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .send(job)
                .is_ok()
        })
    }
}

fn remaining(deadline: Instant) -> Result<Duration, Failure> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left),
        _ => Err(Failure::Timeout),
    }
}

/// Lowers the socket's timeouts to the time left when they exceed it by more than the slack,
/// and raises them again for a later call with more time.
fn fit_timeout(conn: &mut Conn, deadline: Instant) -> Result<(), Failure> {
    let left = remaining(deadline)?;
    if conn.timeout > left + TIMEOUT_SLACK || conn.timeout + TIMEOUT_SLACK < left {
        set_timeout(conn, left)?;
    }
    Ok(())
}

fn set_timeout(conn: &mut Conn, timeout: Duration) -> Result<(), Failure> {
    conn.con
        .set_read_timeout(Some(timeout))
        .and_then(|()| conn.con.set_write_timeout(Some(timeout)))
        .map_err(failure)?;
    conn.timeout = timeout;
    Ok(())
}

fn timeout_error() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
}

fn failure(error: redis::RedisError) -> Failure {
    if error.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Error(error.to_string())
    }
}
