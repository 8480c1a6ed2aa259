use coord::circuit_breaker;

#[circuit_breaker(name = "db")]
fn ping() {}

fn main() {}
