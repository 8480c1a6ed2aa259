use coord::circuit_breaker;

#[circuit_breaker(open_for = "10s", max_open_for = "5s")]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
