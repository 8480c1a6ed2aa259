use coord::retry;

#[retry(policy = "")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
