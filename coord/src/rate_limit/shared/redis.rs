//! The Redis backend of shared rate limiters: one per URL, process-wide while a limiter uses
//! it. Blocking connections (the `redis` crate's, with socket timeouts) in a small pool, a few
//! helper threads for async callers (and for sync callers that may not connect themselves),
//! the GCRA script called by its hash, and the health that decides when Redis is tried again
//! after a failure.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError, Weak};
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
/// Helper threads per backend: round trips in flight at once for async callers. One thread
/// caps a process at one admission per round trip time; past it, callers queue until their
/// timer books a healthy Redis as failed.
const HELPERS: usize = 4;
/// Round trips queued for the helpers at most: past it an async call is decided locally at
/// once (a stalled Redis or name lookup must not grow the queue with every call).
const QUEUE: usize = HELPERS * 64;

/// Checks that `url` is one the `redis` crate can connect to, without connecting.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    redis::Client::open(url)
        .map(drop)
        .map_err(|error| error.to_string())
}

/// The backends in use, by URL. Weak: the last limiter of a URL dropping its backend closes its
/// sockets and ends its helper threads.
static BACKENDS: LazyLock<Mutex<HashMap<String, Weak<Backend>>>> = LazyLock::new(Default::default);

/// A connection and the read timeout its socket has now.
struct Conn {
    con: redis::Connection,
    timeout: Duration,
}

/// A job for a helper thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// One Redis, shared by every limiter naming its URL.
pub(crate) struct Backend {
    client: redis::Client,
    hash: String,
    idle: Mutex<Vec<Conn>>,
    /// Whether a caller may connect on its own thread: the URL names an IP address or a Unix
    /// socket. A host name is resolved by `getaddrinfo`, which has no timeout, so only helper
    /// threads connect to one.
    inline_connect: bool,
    origin: Instant,
    /// Nanoseconds since `origin` before which Redis is not tried (0: healthy).
    down_until: AtomicU64,
    failures: AtomicU32,
    script_loads: AtomicU64,
    /// The helper threads' queue; they end when it is dropped with the backend.
    helpers: OnceLock<Option<SyncSender<Job>>>,
}

impl Backend {
    /// The backend of `url`, made on first use (no connection is made until a call).
    pub(crate) fn for_url(url: &str) -> Result<Arc<Self>, String> {
        let mut backends = BACKENDS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(backend) = backends.get(url).and_then(Weak::upgrade) {
            return Ok(backend);
        }
        let client = redis::Client::open(url)
            .map_err(|error| format!("`{}` is not a Redis URL: {error}", super::redact(url)))?;
        let inline_connect = match client.get_connection_info().addr() {
            redis::ConnectionAddr::Tcp(host, _) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok(),
            redis::ConnectionAddr::Unix(_) => true,
            _ => false,
        };
        let backend = Arc::new(Self {
            client,
            hash: redis::Script::new(SCRIPT).get_hash().to_owned(),
            idle: Mutex::new(Vec::new()),
            inline_connect,
            origin: Instant::now(),
            down_until: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            script_loads: AtomicU64::new(0),
            helpers: OnceLock::new(),
        });
        // The entries of URLs no limiter uses any more go with this insertion.
        backends.retain(|_, backend| backend.strong_count() > 0);
        backends.insert(url.to_owned(), Arc::downgrade(&backend));
        Ok(backend)
    }

    fn now(&self) -> u64 {
        crate::clock::saturating_nanos(self.origin.elapsed()).max(1)
    }

    /// Whether a round trip should be made now: `Some(false)` while healthy; in back-off,
    /// `Some(true)` for the one caller that claims the probe once the back-off is over, `None`
    /// for every other.
    pub(crate) fn try_begin(&self) -> Option<bool> {
        let until = self.down_until.load(Acquire);
        if until == 0 {
            return Some(false);
        }
        let now = self.now();
        if now < until {
            return None;
        }
        // The probe's own time-out is covered by the next back-off step.
        let next = now.saturating_add(crate::clock::saturating_nanos(self.backoff()));
        self.down_until
            .compare_exchange(until, next, AcqRel, Relaxed)
            .is_ok()
            .then_some(true)
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

    /// Books a failed round trip: a back-off starts, or (the probe failed) the next, longer
    /// one. The other round trips in flight when Redis went away fail too; they are one
    /// outage, not one step each towards the longest back-off.
    fn failed(&self, failure: &Failure, probe: bool) {
        if !probe && self.down_until.load(Acquire) != 0 {
            return;
        }
        let failures = self.failures.fetch_add(1, Relaxed);
        let until = self
            .now()
            .saturating_add(crate::clock::saturating_nanos(self.backoff()));
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

    /// One admission: `EVALSHA` (with a reload on `NOSCRIPT`), within `ask.deadline`. With no
    /// idle connection, only a helper thread (`on_helper`) or a caller of an IP or Unix URL
    /// connects; another gets [`Failure::NoConnection`].
    pub(crate) fn eval(&self, ask: &Ask<'_>, on_helper: bool) -> Result<Grant, Failure> {
        // A round trip queued behind others until less than half its time is left would
        // likely run out of it: decided locally, and not Redis's failure (no back-off).
        match ask.deadline.checked_duration_since(Instant::now()) {
            Some(left) if left >= ask.timeout / 2 && !left.is_zero() => {}
            _ => return Err(Failure::NotAsked("queued past half the timeout")),
        }
        let conn = match self.pop_idle() {
            Some(conn) => Ok(conn),
            None if on_helper || self.inline_connect => self.connect(ask.deadline),
            None => return Err(Failure::NoConnection),
        };
        let result = conn.and_then(|mut conn| {
            let sent = Instant::now();
            let result = (self.eval_on(&mut conn, ask)).map(|grant| Grant {
                rtt_nanos: crate::clock::saturating_nanos(sent.elapsed()),
                ..grant
            });
            // A time-out or broken pipe leaves the connection mid-reply: never reuse it.
            if result.is_ok() {
                self.give(conn);
            }
            result
        });
        match &result {
            Ok(_) => self.succeeded(),
            Err(failure) => self.failed(failure, ask.probe),
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
            rtt_nanos: 0,
        })
    }

    fn pop_idle(&self) -> Option<Conn> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// A new connection, made within the deadline.
    fn connect(&self, deadline: Instant) -> Result<Conn, Failure> {
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

    /// Runs `job` on one of the backend's helper threads (started on first use); else why not
    /// (no thread could be started, or the queue is full), for the call's fallback.
    pub(crate) fn spawn(&self, job: Job) -> Result<(), &'static str> {
        let helpers = self.helpers.get_or_init(|| {
            let (sender, receiver) = mpsc::sync_channel::<Job>(QUEUE);
            let receiver = Arc::new(Mutex::new(receiver));
            let started = (0..HELPERS)
                .filter(|_| {
                    let receiver = Arc::clone(&receiver);
                    std::thread::Builder::new()
                        .name("coord-redis".into())
                        .spawn(move || help(&receiver))
                        .is_ok()
                })
                .count();
            (started > 0).then_some(sender)
        });
        let sender = helpers.as_ref().ok_or("no helper thread")?;
        sender.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => "helper queue full",
            TrySendError::Disconnected(_) => "no helper thread",
        })
    }
}

/// A helper thread: runs jobs until the backend, and with it the queue's sender, is dropped.
fn help(receiver: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is released before the job runs: the other helpers take the next jobs.
        let job = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failures_of_one_outage_are_one_back_off_step() {
        let backend = Backend::for_url("redis://127.0.0.1:2/15").unwrap();
        // The round trips in flight when Redis went away fail one after the other.
        for _ in 0..5 {
            backend.failed(&Failure::Timeout, false);
        }
        assert_eq!(backend.failures.load(Relaxed), 1);
        assert_eq!(backend.backoff(), BASE_BACKOFF);
        // The probe after the back-off fails: the next step.
        backend.failed(&Failure::Timeout, true);
        assert_eq!(backend.backoff(), BASE_BACKOFF * 2);
        backend.succeeded();
        assert!(backend.is_up());
    }

    /// The helper threads of this process now.
    #[cfg(target_os = "linux")]
    fn helper_threads() -> usize {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.trim() == "coord-redis")
            .count()
    }

    /// The tests that start helper threads, one at a time: one counts them.
    static HELPER_TESTS: Mutex<()> = Mutex::new(());

    #[test]
    fn the_last_limiter_of_a_url_drops_its_backend_and_helper_threads() {
        let _serial = HELPER_TESTS.lock().unwrap_or_else(PoisonError::into_inner);
        let url = "redis://127.0.0.1:3/14";
        let backend = Backend::for_url(url).unwrap();
        assert!(Arc::ptr_eq(&backend, &Backend::for_url(url).unwrap()));
        #[cfg(target_os = "linux")]
        let before = helper_threads();
        let (sender, receiver) = mpsc::channel();
        assert!(
            backend
                .spawn(Box::new(move || sender.send(()).unwrap()))
                .is_ok()
        );
        receiver.recv_timeout(Duration::from_secs(5)).unwrap();
        // Each helper names itself when it starts.
        #[cfg(target_os = "linux")]
        {
            let started = Instant::now();
            while helper_threads() < before + HELPERS {
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "helpers not named"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let weak = Arc::downgrade(&backend);
        drop(backend);
        assert!(weak.upgrade().is_none());
        assert!(
            BACKENDS
                .lock()
                .unwrap()
                .get(url)
                .and_then(Weak::upgrade)
                .is_none()
        );
        // The helpers see the queue closed and end (a generous liveness bound).
        #[cfg(target_os = "linux")]
        {
            let started = Instant::now();
            while helper_threads() > before {
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "helpers still run"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // A new limiter of the URL gets a new backend.
        assert!(Backend::for_url(url).is_ok());
    }

    #[test]
    fn a_full_helper_queue_refuses_at_once_and_says_so() {
        let _serial = HELPER_TESTS.lock().unwrap_or_else(PoisonError::into_inner);
        let backend = Backend::for_url("redis://127.0.0.1:3/13").unwrap();
        // Every job waits until the test lets go, so the helpers stay busy and the queue fills.
        let gate = Arc::new(std::sync::RwLock::new(()));
        let held = gate.write().unwrap();
        let (ran, finished) = mpsc::channel();
        let mut accepted = 0;
        let refusal = loop {
            let (gate, ran) = (Arc::clone(&gate), ran.clone());
            match backend.spawn(Box::new(move || {
                drop(gate.read());
                let _ = ran.send(());
            })) {
                Ok(()) => accepted += 1,
                Err(why) => break why,
            }
            assert!(accepted <= QUEUE + HELPERS, "the queue is bounded");
        };
        assert_eq!(refusal, "helper queue full");
        // The queue holds QUEUE jobs; the helpers may have taken up to HELPERS off it.
        assert!((QUEUE..=QUEUE + HELPERS).contains(&accepted), "{accepted}");
        drop(held);
        for _ in 0..accepted {
            finished
                .recv_timeout(Duration::from_secs(5))
                .expect("every queued job runs once the helpers are free");
        }
        assert!(backend.spawn(Box::new(|| ())).is_ok(), "room again");
    }
}
