use coord::retry;

#[retry(multiplier = 1e999)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
