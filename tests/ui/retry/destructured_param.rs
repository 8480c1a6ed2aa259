use coord::retry;

#[retry]
fn send((host, port): (String, u16)) -> Result<String, String> {
    Ok(format!("{host}:{port}"))
}

fn main() {}
