use coord::{circuit_breaker, track_performance};

#[track_performance]
#[circuit_breaker = "db"]
fn query() -> Result<u32, coord::CircuitOpen> {
    Ok(1)
}

fn main() {}
