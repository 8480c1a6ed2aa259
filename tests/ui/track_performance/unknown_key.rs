use coord::track_performance;

#[track_performance(label = "fetch")]
fn fetch() {}

fn main() {}
