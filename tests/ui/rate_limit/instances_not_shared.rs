use coord::{RateLimited, rate_limit};

#[rate_limit(rate = 10, instances = 4)]
fn work() -> Result<u32, RateLimited> {
    Ok(1)
}

#[rate_limit(rate = 1000, per = "100us", shared = true, instances = 4)]
fn shared_too_fine() -> Result<u32, RateLimited> {
    Ok(1)
}

fn main() {}
