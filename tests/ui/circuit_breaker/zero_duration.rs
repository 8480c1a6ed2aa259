use coord::circuit_breaker;

#[circuit_breaker(open_for = "0s")]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
