use coord::fallback;

fn recover(_: &str) -> u32 {
    0
}

#[fallback(recover)]
async fn work() -> Result<u32, String> {
    Ok(1)
}

fn main() {}
