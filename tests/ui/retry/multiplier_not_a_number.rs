use coord::retry;

#[retry(multiplier = "2x")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
