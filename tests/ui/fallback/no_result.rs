use coord::fallback;

fn recover(_: ()) {}

#[fallback(recover)]
fn work() {}

fn main() {}
