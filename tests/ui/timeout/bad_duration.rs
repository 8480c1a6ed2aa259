use coord::{TimedOut, timeout};

#[timeout("2 fortnights")]
async fn work() -> Result<u32, TimedOut> {
    Ok(1)
}

fn main() {}
