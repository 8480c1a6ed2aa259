use coord::circuit_breaker;

#[circuit_breaker(name = "a")]
#[circuit_breaker(name = "b")]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
