use coord::retry;

#[retry(policy = payments)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
