use coord::circuit_breaker;

#[circuit_breaker(name = 5)]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
