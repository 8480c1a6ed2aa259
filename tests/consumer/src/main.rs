//! A user's program: all four macros, then the report. Built and run by `.ci/run` with coord's
//! default features and with `--no-default-features`.

use std::cell::Cell;
use std::fmt;

use coord::{CircuitOpen, Validate, circuit_breaker, retry, track_performance};

#[derive(Debug)]
enum ShopError {
    Flaky,
    Open(CircuitOpen),
}

impl fmt::Display for ShopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShopError::Flaky => f.write_str("flaky backend"),
            ShopError::Open(open) => write!(f, "{open}"),
        }
    }
}

impl From<CircuitOpen> for ShopError {
    fn from(open: CircuitOpen) -> Self {
        ShopError::Open(open)
    }
}

#[derive(Validate, serde::Serialize)]
struct Order {
    #[validate(length(min = 1, max = 20))]
    sku: String,
    #[validate(range(min = 1, max = 100))]
    quantity: u32,
    #[validate(pattern = "^[A-Z]{2}$")]
    country: String,
}

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

#[track_performance("consumer.price")]
#[retry(max_retries = 3, base_delay = "1ms")]
#[circuit_breaker(name = "consumer.pricing", minimum_calls = 50, window = 50)]
fn price(order: &Order) -> Result<u64, ShopError> {
    let n = CALLS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if n % 2 == 1 {
        Err(ShopError::Flaky)
    } else {
        Ok(u64::from(order.quantity) * 250)
    }
}

/// An async retry on no particular executor: coord's own timer wakes the back-off sleeps.
#[retry(max_retries = 2, base_delay = "1ms")]
async fn reserve(attempts: &Cell<u32>) -> Result<u32, ShopError> {
    attempts.set(attempts.get() + 1);
    if attempts.get() < 3 {
        Err(ShopError::Flaky)
    } else {
        Ok(attempts.get())
    }
}

/// The smallest executor: poll on this thread, park until woken.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// A handler answering with a status, as axum's `Response` (an `http::Response`) does.
#[track_performance("consumer.handler")]
fn handler(status: u16) -> http::Response<()> {
    let mut response = http::Response::new(());
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

fn main() {
    // A 5xx is a failure and a 4xx a success whatever coord's features.
    for status in [200, 404, 502] {
        handler(status);
    }
    let handled = coord::operation("consumer.handler").expect("recorded");
    assert_eq!((handled.successes, handled.failures), (2, 1));

    let attempts = Cell::new(0);
    assert_eq!(block_on(reserve(&attempts)).unwrap(), 3);

    let order = Order {
        sku: "tea".into(),
        quantity: 3,
        country: "NZ".into(),
    };
    assert!(order.validate().is_valid);
    let bad = Order {
        sku: String::new(),
        quantity: 0,
        country: "nz".into(),
    };
    assert_eq!(bad.validate().errors.len(), 3);

    for _ in 0..5 {
        assert_eq!(price(&order).unwrap(), 750);
    }
    let stats = coord::operation("consumer.price").expect("recorded");
    assert_eq!((stats.calls, stats.successes), (5, 5));
    assert_eq!(
        coord::breaker("consumer.pricing").state(),
        coord::BreakerState::Closed
    );
    println!("{}", coord::report());
    println!("consumer: ok");
}
