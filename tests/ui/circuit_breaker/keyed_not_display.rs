use coord::circuit_breaker;

#[derive(Hash)]
struct Host(u32);

#[circuit_breaker(name = "db", key = host)]
fn query(host: Host) -> Result<u32, coord::CircuitOpen> {
    Ok(host.0)
}

fn main() {}
