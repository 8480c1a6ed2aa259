use coord::track_performance;

#[track_performance("fetch", "again")]
fn fetch() {}

fn main() {}
