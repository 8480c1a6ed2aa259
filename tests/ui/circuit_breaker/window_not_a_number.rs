use coord::circuit_breaker;

#[circuit_breaker(window = true)]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
