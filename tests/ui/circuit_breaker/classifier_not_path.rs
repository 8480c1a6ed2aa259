use coord::circuit_breaker;

#[circuit_breaker(classifier = |e: &coord::CircuitOpen| true)]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
