use coord::retry;

#[retry(base_delay = "5 parsecs")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
