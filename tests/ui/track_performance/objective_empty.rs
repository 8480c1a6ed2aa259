use coord::track_performance;

#[track_performance(name = "fetch", objective = " ")]
fn fetch() {}

fn main() {}
