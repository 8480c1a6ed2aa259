use coord::circuit_breaker;

#[circuit_breaker(slow_call = 2)]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
