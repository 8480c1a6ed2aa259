use coord::circuit_breaker;

#[circuit_breaker(name = "  ")]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
