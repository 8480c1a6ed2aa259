use coord::{TimedOut, timeout};

#[timeout]
async fn work() -> Result<u32, TimedOut> {
    Ok(1)
}

fn main() {}
