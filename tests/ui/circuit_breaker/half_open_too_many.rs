use coord::circuit_breaker;

#[circuit_breaker(half_open_calls = 300)]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
