//! A wrapped future is `Send` whenever the unwrapped one is: every attribute alone and all
//! together, with `Box<dyn Error + Send + Sync>` and plain `Box<dyn Error>` errors, a by-value
//! `Cell` parameter, `&mut self` on a `Send + !Sync` type, `self: Arc<Self>` and a generic
//! `T: Send`. These are compile-time checks; the test also runs each future once.

use std::cell::Cell;
use std::error::Error;
use std::sync::Arc;

use coord::{
    bulkhead, circuit_breaker, fallback, hedge, rate_limit, retry, timeout, track_performance,
};

fn assert_send<T: Send>(value: T) -> T {
    value
}

async fn pause() {
    tokio::task::yield_now().await;
}

type SyncError = Box<dyn Error + Send + Sync>;

/// `async fn name(x: u32) -> Result<u32, Error>` under the given attributes: one await, then an
/// error for 0. Whether the unwrapped future is `Send` depends only on the error type.
macro_rules! attributed {
    ($($(#[$attr:meta])+ fn $name:ident -> $error:ty;)+) => {$(
        $(#[$attr])+
        async fn $name(x: u32) -> Result<u32, $error> {
            pause().await;
            if x == 0 { Err("zero".into()) } else { Ok(x) }
        }
    )+};
}

// ---- Box<dyn Error + Send + Sync> ----

attributed! {
    #[track_performance]
    fn perf_sync_error -> SyncError;

    #[retry(max_retries = 1, base_delay = "1ms")]
    fn retry_sync_error -> SyncError;

    #[circuit_breaker(name = "send.breaker_sync_error")]
    fn breaker_sync_error -> SyncError;

    #[track_performance("send.all_sync_error")]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker(name = "send.all_sync_error")]
    fn all_sync_error -> SyncError;
}

// ---- plain Box<dyn Error>: the unwrapped future is Send as long as no error lives across an
// await; the wrapper must not hold one across its back-off sleep either ----

attributed! {
    #[track_performance]
    fn perf_local_error -> Box<dyn Error>;

    #[retry(max_retries = 1, base_delay = "1ms")]
    fn retry_local_error -> Box<dyn Error>;

    #[circuit_breaker(name = "send.breaker_local_error")]
    fn breaker_local_error -> Box<dyn Error>;

    #[track_performance("send.all_local_error")]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker(name = "send.all_local_error")]
    fn all_local_error -> Box<dyn Error>;
}

// ---- a by-value `Cell` parameter (Send, not Sync) ----

#[track_performance("send.all_cell")]
#[retry(max_retries = 1, base_delay = "1ms")]
#[circuit_breaker(name = "send.all_cell")]
async fn all_cell(counter: Cell<u32>) -> Result<u32, SyncError> {
    counter.set(counter.get() + 1);
    pause().await;
    Ok(counter.get())
}

#[retry(max_retries = 1, base_delay = "1ms")]
async fn retry_cell(counter: Cell<u32>) -> Result<u32, SyncError> {
    pause().await;
    Ok(counter.get())
}

#[track_performance]
async fn perf_cell(counter: Cell<u32>) -> Result<u32, SyncError> {
    pause().await;
    Ok(counter.get())
}

#[circuit_breaker(name = "send.breaker_cell")]
async fn breaker_cell(counter: Cell<u32>) -> Result<u32, SyncError> {
    pause().await;
    Ok(counter.get())
}

// ---- hedged: attempts side by side, each owning its copy of the by-value parameters ----

#[hedge(after = "10ms")]
async fn hedge_plain(x: u32) -> Result<u32, SyncError> {
    pause().await;
    Ok(x)
}

#[track_performance("send.hedge_all")]
#[hedge(after = "10ms", max_extra = 2)]
#[retry(max_retries = 1, base_delay = "1ms")]
#[circuit_breaker(name = "send.hedge_all")]
#[bulkhead(max_concurrent = 4)]
#[timeout("1s")]
async fn hedge_all(label: String, shared: &Shared) -> Result<u32, SyncError> {
    pause().await;
    Ok(label.len() as u32 + shared.value)
}

#[hedge(after = "10ms")]
#[retry(max_retries = 1, base_delay = "1ms")]
async fn hedge_cell(counter: Cell<u32>) -> Result<u32, SyncError> {
    pause().await;
    Ok(counter.get())
}

impl Shared {
    #[hedge(after = "10ms")]
    async fn hedge_ref(&self) -> Result<u32, SyncError> {
        pause().await;
        Ok(self.value)
    }
}

// ---- &mut self on a Send + !Sync type, and self: Arc<Self> ----

struct Counter {
    calls: Cell<u32>,
}

impl Counter {
    #[track_performance]
    async fn perf_mut(&mut self) -> Result<u32, SyncError> {
        pause().await;
        Ok(self.calls.get())
    }

    #[retry(max_retries = 1, base_delay = "1ms")]
    async fn retry_mut(&mut self) -> Result<u32, SyncError> {
        pause().await;
        Ok(self.calls.get())
    }

    #[circuit_breaker(name = "send.breaker_mut")]
    async fn breaker_mut(&mut self) -> Result<u32, SyncError> {
        pause().await;
        Ok(self.calls.get())
    }

    #[track_performance]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker]
    async fn all_mut(&mut self, by: u32) -> Result<u32, Box<dyn Error>> {
        self.calls.set(self.calls.get() + by);
        pause().await;
        Ok(self.calls.get())
    }
}

struct Shared {
    value: u32,
}

impl Shared {
    #[track_performance]
    async fn perf_arc(self: Arc<Self>) -> Result<u32, SyncError> {
        pause().await;
        Ok(self.value)
    }

    #[retry(max_retries = 1, base_delay = "1ms")]
    async fn retry_arc(self: Arc<Self>) -> Result<u32, SyncError> {
        pause().await;
        Ok(self.value)
    }

    #[circuit_breaker(name = "send.breaker_arc")]
    async fn breaker_arc(self: Arc<Self>) -> Result<u32, SyncError> {
        pause().await;
        Ok(self.value)
    }

    #[track_performance]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker]
    async fn all_arc(self: Arc<Self>) -> Result<u32, Box<dyn Error>> {
        pause().await;
        Ok(self.value)
    }
}

// ---- a generic T: Send ----

#[track_performance]
async fn perf_generic<T: Send>(value: T) -> Result<T, SyncError> {
    pause().await;
    Ok(value)
}

#[retry(max_retries = 1, base_delay = "1ms")]
async fn retry_generic<T: Send + Clone>(value: T) -> Result<T, SyncError> {
    pause().await;
    Ok(value)
}

#[circuit_breaker(name = "send.breaker_generic")]
async fn breaker_generic<T: Send>(value: T) -> Result<T, SyncError> {
    pause().await;
    Ok(value)
}

#[track_performance("send.all_generic")]
#[retry(max_retries = 1, base_delay = "1ms")]
#[circuit_breaker(name = "send.all_generic")]
async fn all_generic<T: Send + Clone>(value: T) -> Result<T, Box<dyn Error>> {
    pause().await;
    Ok(value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrapped_futures_are_send_and_spawnable() {
    let ok = |r: Result<u32, SyncError>| r.unwrap();
    let local = |r: Result<u32, Box<dyn Error>>| r.map_err(|e| e.to_string()).unwrap();

    assert_eq!(ok(tokio::spawn(perf_sync_error(1)).await.unwrap()), 1);
    assert_eq!(ok(tokio::spawn(retry_sync_error(2)).await.unwrap()), 2);
    assert_eq!(ok(tokio::spawn(breaker_sync_error(3)).await.unwrap()), 3);
    assert_eq!(ok(tokio::spawn(all_sync_error(4)).await.unwrap()), 4);

    assert_eq!(local(assert_send(perf_local_error(1)).await), 1);
    assert_eq!(local(assert_send(retry_local_error(2)).await), 2);
    assert_eq!(local(assert_send(breaker_local_error(3)).await), 3);
    assert_eq!(local(assert_send(all_local_error(4)).await), 4);
    assert!(assert_send(retry_local_error(0)).await.is_err());

    assert_eq!(ok(tokio::spawn(all_cell(Cell::new(1))).await.unwrap()), 2);
    assert_eq!(ok(tokio::spawn(retry_cell(Cell::new(1))).await.unwrap()), 1);
    assert_eq!(ok(tokio::spawn(perf_cell(Cell::new(1))).await.unwrap()), 1);
    assert_eq!(
        ok(tokio::spawn(breaker_cell(Cell::new(1))).await.unwrap()),
        1
    );

    let mut counter = Counter {
        calls: Cell::new(0),
    };
    assert_eq!(ok(assert_send(counter.perf_mut()).await), 0);
    assert_eq!(ok(assert_send(counter.retry_mut()).await), 0);
    assert_eq!(ok(assert_send(counter.breaker_mut()).await), 0);
    assert_eq!(local(assert_send(counter.all_mut(2)).await), 2);
    let counter = tokio::spawn(async move {
        let mut counter = counter;
        counter.all_mut(1).await.map_err(|e| e.to_string()).unwrap();
        counter
    })
    .await
    .unwrap();
    assert_eq!(counter.calls.get(), 3);

    let shared = Arc::new(Shared { value: 7 });
    assert_eq!(
        ok(tokio::spawn(shared.clone().perf_arc()).await.unwrap()),
        7
    );
    assert_eq!(
        ok(tokio::spawn(shared.clone().retry_arc()).await.unwrap()),
        7
    );
    assert_eq!(
        ok(tokio::spawn(shared.clone().breaker_arc()).await.unwrap()),
        7
    );
    assert_eq!(local(assert_send(shared.clone().all_arc()).await), 7);

    assert_eq!(ok(tokio::spawn(hedge_plain(3)).await.unwrap()), 3);
    assert_eq!(ok(tokio::spawn(hedge_cell(Cell::new(4))).await.unwrap()), 4);
    let spawned = Arc::clone(&shared);
    let all = tokio::spawn(async move { hedge_all("ab".to_owned(), &spawned).await });
    assert_eq!(ok(all.await.unwrap()), 9);
    let spawned = Arc::clone(&shared);
    let by_ref = tokio::spawn(async move { spawned.hedge_ref().await });
    assert_eq!(ok(by_ref.await.unwrap()), 7);

    assert_eq!(tokio::spawn(perf_generic(5u8)).await.unwrap().unwrap(), 5);
    assert_eq!(tokio::spawn(retry_generic(6u8)).await.unwrap().unwrap(), 6);
    assert_eq!(
        tokio::spawn(breaker_generic(7u8)).await.unwrap().unwrap(),
        7
    );
    assert_eq!(
        assert_send(all_generic(String::from("x")))
            .await
            .map_err(|e| e.to_string())
            .unwrap(),
        "x"
    );
}

// ---- the resilience layers, alone and all together, with a plain Box<dyn Error> ----

fn recover_local(_: Box<dyn Error>) -> Result<u32, Box<dyn Error>> {
    Ok(0)
}

// An async fallback's future holds the error it is given: it is `Send` when the error is.
async fn recover_async(_: SyncError) -> Result<u32, SyncError> {
    pause().await;
    Ok(0)
}

attributed! {
    #[fallback(recover_async)]
    #[retry(max_retries = 1, base_delay = "1ms")]
    fn fallback_async_sync_error -> SyncError;

    #[timeout("1s")]
    fn timeout_local_error -> Box<dyn Error>;

    #[timeout(total = "1s")]
    #[retry(max_retries = 1, base_delay = "1ms")]
    fn total_local_error -> Box<dyn Error>;

    #[bulkhead(name = "send.bulkhead")]
    fn bulkhead_local_error -> Box<dyn Error>;

    #[rate_limit(name = "send.rate_limit")]
    fn rate_limit_local_error -> Box<dyn Error>;

    #[fallback(recover_local)]
    fn fallback_local_error -> Box<dyn Error>;

    #[track_performance("send.layers_local_error")]
    #[fallback(recover_local)]
    #[timeout(total = "1s")]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[circuit_breaker(name = "send.layers_local_error")]
    #[rate_limit(name = "send.layers_local_error")]
    #[bulkhead(name = "send.layers_local_error")]
    #[timeout("1s")]
    fn layers_local_error -> Box<dyn Error>;
}

impl Counter {
    #[fallback(recover_sync_error)]
    #[timeout(total = "1s")]
    #[retry(max_retries = 1, base_delay = "1ms")]
    #[rate_limit]
    #[bulkhead]
    #[timeout("1s")]
    async fn layers_mut(&mut self) -> Result<u32, SyncError> {
        pause().await;
        Ok(self.calls.get())
    }
}

fn recover_sync_error(e: SyncError) -> Result<u32, SyncError> {
    Err(e)
}

#[timeout("1s")]
#[bulkhead]
#[rate_limit]
#[retry(max_retries = 1, base_delay = "1ms")]
async fn layers_generic<T: Send + Clone>(value: T) -> Result<T, SyncError> {
    pause().await;
    Ok(value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resilience_layers_are_send() {
    let local = |r: Result<u32, Box<dyn Error>>| r.map_err(|e| e.to_string()).unwrap();
    assert_eq!(local(assert_send(timeout_local_error(1)).await), 1);
    assert_eq!(local(assert_send(total_local_error(2)).await), 2);
    assert_eq!(local(assert_send(bulkhead_local_error(3)).await), 3);
    assert_eq!(local(assert_send(rate_limit_local_error(4)).await), 4);
    assert_eq!(local(assert_send(fallback_local_error(0)).await), 0);
    assert_eq!(local(assert_send(layers_local_error(0)).await), 0);
    assert_eq!(local(assert_send(layers_local_error(5)).await), 5);
    assert_eq!(
        tokio::spawn(fallback_async_sync_error(0))
            .await
            .unwrap()
            .unwrap(),
        0
    );
    let mut counter = Counter {
        calls: Cell::new(4),
    };
    assert_eq!(assert_send(counter.layers_mut()).await.unwrap(), 4);
    assert_eq!(tokio::spawn(layers_generic(6u8)).await.unwrap().unwrap(), 6);
}
