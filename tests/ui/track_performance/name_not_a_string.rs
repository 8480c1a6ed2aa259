use coord::track_performance;

#[track_performance(name = fetch)]
fn fetch() {}

fn main() {}
