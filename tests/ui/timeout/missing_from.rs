#[derive(Debug)]
struct MyError;

#[coord::timeout("2s")]
async fn work() -> Result<u32, MyError> {
    Ok(1)
}

fn main() {}
