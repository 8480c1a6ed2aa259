use coord::circuit_breaker;

#[circuit_breaker(minimum_calls = 99999999999999999999999)]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
