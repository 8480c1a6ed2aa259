use coord::retry;

#[retry(max_retries = 5000)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
