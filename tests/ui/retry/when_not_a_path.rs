use coord::retry;

#[retry(when = "is_transient")]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
