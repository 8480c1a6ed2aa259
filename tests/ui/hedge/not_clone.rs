use coord::hedge;

struct Request {
    body: Vec<u8>,
}

#[hedge(after = "20ms")]
async fn send(request: Request) -> Result<usize, String> {
    Ok(request.body.len())
}

fn main() {}
