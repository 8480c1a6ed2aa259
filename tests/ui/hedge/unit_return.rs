use coord::hedge;

#[hedge]
async fn ping() {}

fn main() {}
