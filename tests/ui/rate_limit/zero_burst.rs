use coord::{RateLimited, rate_limit};

#[rate_limit(burst = 0)]
fn work() -> Result<u32, RateLimited> {
    Ok(1)
}

fn main() {}
