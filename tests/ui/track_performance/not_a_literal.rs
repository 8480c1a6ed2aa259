use coord::track_performance;

#[track_performance(42)]
fn fetch() {}

fn main() {}
