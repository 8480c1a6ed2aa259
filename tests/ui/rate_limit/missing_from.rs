#[derive(Debug)]
struct MyError;

#[coord::rate_limit(rate = 10)]
fn work() -> Result<u32, MyError> {
    Ok(1)
}

fn main() {}
