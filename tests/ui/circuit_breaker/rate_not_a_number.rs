use coord::circuit_breaker;

#[circuit_breaker(failure_rate = half)]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
