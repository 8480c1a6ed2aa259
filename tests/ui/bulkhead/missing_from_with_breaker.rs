// A missing `From<BulkheadFull>` beside other layers: one message, at `#[bulkhead]`, and no
// error at the other attributes.
#[derive(Debug)]
struct MyError;

impl From<coord::CircuitOpen> for MyError {
    fn from(_: coord::CircuitOpen) -> Self {
        MyError
    }
}

#[coord::track_performance]
#[coord::retry(max_retries = 1)]
#[coord::circuit_breaker(name = "ui.bulkhead_with_breaker")]
#[coord::bulkhead(max_concurrent = 2)]
async fn work() -> Result<u32, MyError> {
    Ok(1)
}

fn main() {}
