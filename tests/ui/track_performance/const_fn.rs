use coord::track_performance;

#[track_performance]
const fn answer() -> u32 {
    42
}

fn main() {}
