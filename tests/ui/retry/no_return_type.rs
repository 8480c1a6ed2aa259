use coord::retry;

#[retry]
fn fire_and_forget() {}

fn main() {}
