use coord::retry;

#[retry(base_delay = "100")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
