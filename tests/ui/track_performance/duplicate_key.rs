use coord::track_performance;

#[track_performance(name = "a", name = "b")]
fn fetch() {}

fn main() {}
