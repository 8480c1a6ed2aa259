use coord::retry;

#[retry(max_retries = "3")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
