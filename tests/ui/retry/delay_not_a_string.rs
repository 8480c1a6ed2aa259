use coord::retry;

#[retry(base_delay = 250)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
