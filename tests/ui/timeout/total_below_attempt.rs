use coord::{TimedOut, timeout};

#[timeout(attempt = "2s", total = "1s")]
async fn work() -> Result<u32, TimedOut> {
    Ok(1)
}

fn main() {}
