//! [`serve`] and [`serve_with`]: the routes on hyper, on a thread and a current-thread tokio
//! runtime of its own, under the limits of a [`ServeConfig`].
//!
//! Each connection has one deadline at a time, kept by a watchdog next to hyper: the
//! header time-out until its first request, the request time-out from a request's head to the
//! last byte of its answer handed to the network, the idle time-out after an answer. The
//! watchdog learns where the connection stands from the service (a request starts and ends)
//! and from the socket wrapper (an answer was flushed, the client kept us waiting).

use std::convert::Infallible;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::header::{CONNECTION, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::time::Instant;

use super::config::ServeConfig;
use super::csp;
use super::routes::{self, Route, Routes};

/// hyper's read buffer: a request head (and the pipelined requests read ahead of it) must fit.
const MAX_BUF: usize = 16 * 1024;
/// How long a connection refused at the limit may take to receive its `503`.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// Refused connections drained at once; past this many a connection is closed unanswered.
const MAX_REFUSING: usize = 64;

/// The body of the `503` past every connection slot.
const ALL_SLOTS_TAKEN: &str = "every connection slot is taken; retry later\n";
/// The longest a connection kept for the probe may wait for its request head: a probe sends
/// it at once, and a silent socket must not hold the slot for the whole header time-out.
const PROBE_HEADER_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves the coord routes (see the [module docs](super)) on `addr` until the returned
/// [`Server`] is shut down or dropped, with the default [`ServeConfig`]: the same as
/// `serve_with(addr, ServeConfig::default())`.
///
/// The socket is bound before this returns, so a bad or busy address is an error here, and
/// port 0 picks a free port ([`Server::local_addr`] tells which). The server runs on a thread
/// of its own with its own single-threaded tokio runtime: it works the same from a sync `main`
/// and from inside an async program, and never competes with the program's runtime.
///
/// ```
/// use std::io::{Read, Write};
///
/// let server = coord::http::serve("127.0.0.1:0")?;
/// let mut client = std::net::TcpStream::connect(server.local_addr())?;
/// client.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// let mut answer = String::new();
/// client.read_to_string(&mut answer)?;
/// assert!(answer.starts_with("HTTP/1.1 200 OK"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve(addr: impl ToSocketAddrs) -> io::Result<Server> {
    serve_with(addr, ServeConfig::default())
}

/// Serves the coord routes on `addr` like [`serve`], with the limits and exposure settings of
/// `config` (see [`ServeConfig`] for each and its default).
///
/// ```
/// use std::time::Duration;
///
/// let config = coord::http::ServeConfig::default()
///     .idle_timeout(Duration::from_secs(10))
///     .max_connections(32);
/// let server = coord::http::serve_with("127.0.0.1:0", config)?;
/// server.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_with(addr: impl ToSocketAddrs, config: ServeConfig) -> io::Result<Server> {
    // An entry point: `COORD_CONFIG` applies before the first request is served.
    crate::config::ensure_env_loaded();
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let config = config.resolve(Some(local_addr.ip()));
    config.start_monitor_if_asked();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(2)
        .thread_name("coord-http-blocking")
        .build()?;
    let listener = {
        let _entered = runtime.enter();
        TcpListener::from_std(listener)?
    };
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("coord-http".into())
        .spawn(move || {
            runtime.block_on(accept(listener, Arc::new(Routes::new(config)), stopped));
            // Open connections are dropped with their tasks; nothing waits for them.
            runtime.shutdown_background();
        })?;
    Ok(Server {
        local_addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// A running coord HTTP server. Dropping it stops it, like [`shutdown`](Self::shutdown).
#[derive(Debug)]
#[must_use = "dropping the Server stops it"]
pub struct Server {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// The address the server listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The dashboard's URL, `http://ip:port/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// Stops accepting, closes every open connection and waits for the server's thread to end
    /// (a few milliseconds).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The thread only runs coord's own code; a panic there has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Which routes a connection may use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// One of `max_connections`: every route.
    Full,
    /// One of `probe_connections`, taken when the others are: one request, probes only.
    Probe,
}

async fn accept(listener: TcpListener, routes: Arc<Routes>, mut stopped: oneshot::Receiver<()>) {
    let config = routes.config();
    let full = Arc::new(Semaphore::new(config.max_connections));
    let probes = Arc::new(Semaphore::new(config.probe_connections));
    // Refusals hold their socket up to `REFUSAL_TIMEOUT` to drain it, so they have a budget of
    // their own: past it a connection is closed at once, and a flood cannot take every file
    // descriptor (the probe slots need one each).
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let refusal: Arc<[u8]> = refusal_answer(config.retry_after_secs()).into();
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: wait a little instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let routes = Arc::clone(&routes);
        if let Ok(permit) = Arc::clone(&full).try_acquire_owned() {
            tokio::spawn(connection(stream, routes, Slot::Full, permit));
        } else if let Ok(permit) = Arc::clone(&probes).try_acquire_owned() {
            tokio::spawn(connection(stream, routes, Slot::Probe, permit));
        } else if let Ok(permit) = Arc::clone(&refusing).try_acquire_owned() {
            let answer = Arc::clone(&refusal);
            tokio::spawn(async move {
                refuse(stream, &answer).await;
                drop(permit);
            });
        }
        // Else the stream is dropped here: closed without an answer.
    }
}

/// The `503` a connection over every limit gets, written once per server.
fn refusal_answer(retry_after: u64) -> Vec<u8> {
    let body = ALL_SLOTS_TAKEN;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         retry-after: {retry_after}\r\ncontent-length: {}\r\nconnection: close\r\n\
         cache-control: no-store\r\nx-content-type-options: nosniff\r\n\
         x-frame-options: DENY\r\nreferrer-policy: no-referrer\r\n\
         content-security-policy: {}\r\n\r\n{body}",
        body.len(),
        csp::STRICT,
    )
    .into_bytes()
}

/// Answers a connection over every limit with `answer` (a `503`) at once, without reading its
/// request.
async fn refuse(mut stream: TcpStream, answer: &[u8]) {
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        let mut rest = answer;
        while !rest.is_empty() {
            stream.writable().await?;
            match stream.try_write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        std::future::poll_fn(|cx| Pin::new(&mut stream).poll_shutdown(cx)).await?;
        // Reading what the client sent before closing lets it get the answer: closing with
        // unread bytes resets the connection, and a reset can discard the answer at the client.
        let mut sink = [0u8; 1024];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut sink) {
                Ok(0) => return io::Result::Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
}

/// Serves one connection until it ends, its deadline passes or the server stops (the task is
/// dropped then).
async fn connection(
    stream: TcpStream,
    routes: Arc<Routes>,
    slot: Slot,
    permit: OwnedSemaphorePermit,
) {
    let config = routes.config();
    let header_timeout = match slot {
        Slot::Full => config.header_timeout,
        Slot::Probe => config.header_timeout.min(PROBE_HEADER_TIMEOUT),
    };
    let watch = Arc::new(Watch::new(config, header_timeout));
    let io = TokioIo::new(Watched {
        stream,
        watch: Arc::clone(&watch),
    });
    let service = {
        let watch = Arc::clone(&watch);
        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let watch = Arc::clone(&watch);
            let routes = Arc::clone(&routes);
            async move {
                let turn = watch.request_started();
                let (parts, body) = request.into_parts();
                let view = routes::Request {
                    method: &parts.method,
                    uri: &parts.uri,
                    headers: &parts.headers,
                };
                let probe_only = slot == Slot::Probe
                    && !Route::of(parts.uri.path()).is_some_and(Route::is_probe);
                let mut answer = if probe_only {
                    routes.busy(ALL_SLOTS_TAKEN)
                } else if parts.uri.path() == super::chaos::PATH {
                    routes.chaos(&view, body).await
                } else {
                    routes.respond(&view).await
                };
                let config = routes.config();
                if slot == Slot::Probe
                    || turn.requests >= config.max_requests_per_connection
                    || turn.pipelined >= config.max_pipelined
                {
                    answer
                        .headers_mut()
                        .insert(CONNECTION, HeaderValue::from_static("close"));
                }
                watch.request_answered(answer.body_mut().take_slot());
                let watch = Arc::clone(&watch);
                Ok::<_, Infallible>(answer.map(|body| Tracked { body, watch }))
            }
        })
    };
    let served = http1::Builder::new()
        .max_buf_size(MAX_BUF)
        // The watchdog keeps the time-outs; hyper's own would apply to idle connections too.
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::select! {
        _ = served => {}
        () = watch.expired() => {}
    }
    drop(permit);
}

/// Where a connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the first request's head.
    Opened,
    /// A request is being answered.
    Answering,
    /// The answer is being written; hyper has taken all of its body when `taken`.
    Writing { taken: bool },
    /// The last answer was handed to the network; waiting for the next request.
    Idle,
}

/// What the service learns when a request starts.
struct Turn {
    /// Requests on this connection, this one included.
    requests: usize,
    /// Requests answered back to back without the client's making us wait, this one included.
    pipelined: usize,
}

struct WatchState {
    phase: Phase,
    /// The reports' budget slot of the answer being written, released once it is sent.
    slot: Option<OwnedSemaphorePermit>,
    deadline: Instant,
    requests: usize,
    pipelined: usize,
    /// Whether the client kept us waiting since the last answer (so its next request is not
    /// pipelined).
    waited: bool,
}

/// One connection's deadline and phase.
struct Watch {
    state: Mutex<WatchState>,
    changed: Notify,
    request_timeout: Duration,
    idle_timeout: Duration,
}

impl Watch {
    fn new(config: &ServeConfig, header_timeout: Duration) -> Watch {
        Watch {
            state: Mutex::new(WatchState {
                phase: Phase::Opened,
                slot: None,
                deadline: Instant::now() + header_timeout,
                requests: 0,
                pipelined: 0,
                waited: true,
            }),
            changed: Notify::new(),
            request_timeout: config.request_timeout,
            idle_timeout: config.idle_timeout,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WatchState> {
        // The state is a few plain fields, valid whatever panicked while holding it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_deadline(&self, state: &mut WatchState, after: Duration) {
        state.deadline = Instant::now() + after;
        self.changed.notify_one();
    }

    fn request_started(&self) -> Turn {
        let mut state = self.state();
        state.requests += 1;
        state.pipelined = if state.waited { 1 } else { state.pipelined + 1 };
        state.waited = false;
        state.phase = Phase::Answering;
        self.set_deadline(&mut state, self.request_timeout);
        Turn {
            requests: state.requests,
            pipelined: state.pipelined,
        }
    }

    fn request_answered(&self, slot: Option<OwnedSemaphorePermit>) {
        let mut state = self.state();
        state.phase = Phase::Writing { taken: false };
        state.slot = slot;
    }

    /// hyper has taken the whole body of the answer (or dropped it).
    fn body_taken(&self) {
        let mut state = self.state();
        if let Phase::Writing { taken } = &mut state.phase {
            *taken = true;
        }
    }

    /// hyper flushed everything it had to write: once it has taken the whole answer, the
    /// answer is sent and the connection is idle.
    fn flushed(&self) {
        let mut state = self.state();
        if state.phase == (Phase::Writing { taken: true }) {
            state.phase = Phase::Idle;
            state.slot = None;
            self.set_deadline(&mut state, self.idle_timeout);
        }
    }

    /// hyper wanted to read and the client had sent nothing more.
    fn read_waiting(&self) {
        let mut state = self.state();
        if state.phase == Phase::Idle {
            state.waited = true;
        }
    }

    /// Resolves once the connection's deadline has passed.
    async fn expired(&self) {
        loop {
            let deadline = self.state().deadline;
            if Instant::now() >= deadline {
                return;
            }
            // A change stores a permit in `changed` if nobody waits yet: none is missed.
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {}
                () = self.changed.notified() => {}
            }
        }
    }
}

/// An answer's body, telling the connection's [`Watch`] when hyper is done with it (hyper
/// drops a body once it has taken its last frame, or without polling it for `HEAD`).
struct Tracked {
    body: routes::Body,
    watch: Arc<Watch>,
}

impl hyper::body::Body for Tracked {
    type Data = hyper::body::Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.watch.body_taken();
    }
}

/// The connection's socket, telling its [`Watch`] when hyper flushed an answer and when the
/// client kept it waiting.
struct Watched {
    stream: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if polled.is_pending() {
            self.watch.read_waiting();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_flush(cx);
        if matches!(polled, Poll::Ready(Ok(()))) {
            self.watch.flushed();
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
