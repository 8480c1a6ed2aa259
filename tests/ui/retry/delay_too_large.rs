use coord::retry;

#[retry(max_delay = "99999999999999999999h")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
