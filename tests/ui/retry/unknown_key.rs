use coord::retry;

#[retry(max_retries = 3, backoff = "2s")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
