use coord::retry;

#[retry(max_retries = 2)]
fn count() -> u32 {
    3
}

fn main() {}
