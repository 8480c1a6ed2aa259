use coord::retry;

struct Request {
    body: Vec<u8>,
}

#[retry(max_retries = 2)]
fn send(request: Request) -> Result<usize, String> {
    Ok(request.body.len())
}

fn main() {}
