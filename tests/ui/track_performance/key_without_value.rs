use coord::track_performance;

#[track_performance(name)]
fn fetch() {}

fn main() {}
