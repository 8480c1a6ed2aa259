use coord::retry;

#[retry(base_delay = "10s", max_delay = "1s")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
