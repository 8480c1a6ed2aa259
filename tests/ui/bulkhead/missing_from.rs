#[derive(Debug)]
struct MyError;

#[coord::bulkhead(max_concurrent = 2)]
fn work() -> Result<u32, MyError> {
    Ok(1)
}

fn main() {}
