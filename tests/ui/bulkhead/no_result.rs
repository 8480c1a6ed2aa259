use coord::bulkhead;

#[bulkhead]
fn work() {}

fn main() {}
