use coord::circuit_breaker;

#[circuit_breaker(key = host)]
fn query(host: &str) -> Result<usize, coord::CircuitOpen> {
    Ok(host.len())
}

fn main() {}
