use coord::circuit_breaker;

#[circuit_breaker(slow_call_rate = 50)]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
