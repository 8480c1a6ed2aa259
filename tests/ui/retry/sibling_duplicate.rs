use coord::retry;

#[retry(max_retries = 1)]
#[coord::retry(max_retries = 2)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
