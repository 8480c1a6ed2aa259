use coord::retry;

#[retry(multiplier = two)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
