use coord::retry;

#[retry(base_delay = "1.2.3s")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
