use coord::retry;

fn transient(_: u32) -> bool {
    true
}

#[retry(when = transient)]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
