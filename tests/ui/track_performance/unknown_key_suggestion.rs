use coord::track_performance;

#[track_performance(nam = "x")]
fn fetch() {}

fn main() {}
