use coord::{TimedOut, timeout};

#[timeout("2s")]
fn blocking() -> Result<u32, TimedOut> {
    Ok(1)
}

fn main() {}
