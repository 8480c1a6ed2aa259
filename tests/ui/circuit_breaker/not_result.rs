use coord::circuit_breaker;

#[circuit_breaker(name = "db")]
fn count() -> u32 {
    1
}

fn main() {}
