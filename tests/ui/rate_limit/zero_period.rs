use coord::{RateLimited, rate_limit};

#[rate_limit(per = "0s")]
fn work() -> Result<u32, RateLimited> {
    Ok(1)
}

fn main() {}
