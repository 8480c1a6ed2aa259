//! [`serve`]: the routes on hyper, on a thread and a current-thread tokio runtime of its own.

use std::convert::Infallible;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

use super::routes;

/// Connections served at once; one more waits in the listen backlog until another ends.
const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the coord routes (see the [module docs](super)) on `addr` until the returned
/// [`Server`] is shut down or dropped.
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
/// client.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
/// let mut answer = String::new();
/// client.read_to_string(&mut answer)?;
/// assert!(answer.starts_with("HTTP/1.1 200 OK"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve(addr: impl ToSocketAddrs) -> io::Result<Server> {
    // An entry point: `COORD_CONFIG` applies before the first request is served.
    crate::config::ensure_env_loaded();
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
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
            runtime.block_on(accept(listener, stopped));
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

async fn accept(listener: TcpListener, mut stopped: oneshot::Receiver<()>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => accepted.map(|(stream, _)| (stream, slot)),
                },
                Err(_) => return,
            },
        };
        match accepted {
            Ok((stream, slot)) => {
                tokio::spawn(async move {
                    let service = service_fn(|request: hyper::Request<hyper::body::Incoming>| {
                        let method = request.method().clone();
                        let path = request.uri().path().to_owned();
                        async move { Ok::<_, Infallible>(routes::respond(&method, &path).await) }
                    });
                    let _ = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    drop(slot);
                });
            }
            // Out of file descriptors and the like: wait a little instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}
