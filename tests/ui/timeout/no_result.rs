use coord::timeout;

#[timeout("2s")]
async fn work() {}

fn main() {}
