use coord::retry;

#[retry(jitter = full)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
