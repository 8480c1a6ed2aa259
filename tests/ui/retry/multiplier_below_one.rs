use coord::retry;

#[retry(multiplier = 0.5)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
