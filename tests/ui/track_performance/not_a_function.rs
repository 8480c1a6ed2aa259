use coord::track_performance;

#[track_performance]
struct Config {
    retries: u32,
}

fn main() {}
