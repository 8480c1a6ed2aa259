use coord::retry;

#[retry(jitter = "")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
