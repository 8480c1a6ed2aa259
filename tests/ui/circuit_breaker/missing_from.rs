use coord::circuit_breaker;

#[derive(Debug)]
struct DbError;

#[circuit_breaker(name = "db")]
fn query() -> Result<u32, DbError> {
    Ok(1)
}

fn main() {
    let _ = query();
}
