use coord::{TimedOut, timeout};

#[timeout("0ms")]
async fn work() -> Result<u32, TimedOut> {
    Ok(1)
}

fn main() {}
