use coord::retry;

#[retry(base_delay = "-1s")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
