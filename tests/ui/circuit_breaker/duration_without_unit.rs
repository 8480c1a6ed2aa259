use coord::circuit_breaker;

#[circuit_breaker(open_for = "30")]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
