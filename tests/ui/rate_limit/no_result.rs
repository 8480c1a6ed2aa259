use coord::rate_limit;

#[rate_limit]
fn work() {}

fn main() {}
