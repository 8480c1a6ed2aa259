use coord::{TimedOut, timeout};

#[timeout("1s")]
#[timeout(attempt = "2s")]
async fn work() -> Result<u32, TimedOut> {
    Ok(1)
}

fn main() {}
