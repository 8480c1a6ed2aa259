use coord::retry;

#[retry]
struct Fetcher;

fn main() {}
