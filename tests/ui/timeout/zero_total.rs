use coord::{TimedOut, timeout};

#[timeout(total = "0s")]
async fn work() -> Result<u32, TimedOut> {
    Ok(1)
}

fn main() {}
