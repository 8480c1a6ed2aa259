use coord::retry;

#[retry(max_retries = 99999999999999999999999)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
