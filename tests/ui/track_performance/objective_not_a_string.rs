use coord::track_performance;

#[track_performance(objective = checkout)]
fn fetch() {}

fn main() {}
