use coord::retry;

#[retry(max_retry = 3)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
