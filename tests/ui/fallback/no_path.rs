use coord::fallback;

#[fallback]
fn work() -> Result<u32, String> {
    Ok(1)
}

fn main() {}
