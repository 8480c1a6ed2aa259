use coord::retry;

#[retry(max_retries)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
