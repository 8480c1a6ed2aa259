use coord::track_performance;

#[track_performance("a")]
#[track_performance("b")]
fn fetch() {}

fn main() {}
