use coord::{TimedOut, timeout};

#[timeout(totl = "2s")]
async fn work() -> Result<u32, TimedOut> {
    Ok(1)
}

fn main() {}
