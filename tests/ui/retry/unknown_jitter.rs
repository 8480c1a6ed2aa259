use coord::retry;

#[retry(jitter = "random")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
