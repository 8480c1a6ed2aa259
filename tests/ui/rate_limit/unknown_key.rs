use coord::{RateLimited, rate_limit};

#[rate_limit(rate = 10, period = "1s")]
fn work() -> Result<u32, RateLimited> {
    Ok(1)
}

fn main() {}
