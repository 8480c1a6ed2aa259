use coord::circuit_breaker;

#[circuit_breaker]
struct Database;

fn main() {}
