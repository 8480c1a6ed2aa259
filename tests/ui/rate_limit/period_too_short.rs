use coord::{RateLimited, rate_limit};

#[rate_limit(rate = 1000, per = "100ns")]
fn work() -> Result<u32, RateLimited> {
    Ok(1)
}

fn main() {}
