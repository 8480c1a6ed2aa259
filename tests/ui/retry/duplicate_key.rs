use coord::retry;

#[retry(max_retries = 3, max_retries = 4)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
