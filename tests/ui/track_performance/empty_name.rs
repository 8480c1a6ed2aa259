use coord::track_performance;

#[track_performance("  ")]
fn fetch() {}

fn main() {}
