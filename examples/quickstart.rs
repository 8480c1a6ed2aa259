//! A tour of coord: annotate functions, call them, print what was measured.

use std::time::Duration;

use coord::track_performance;

#[derive(Debug)]
struct NotFound(u32);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user {} not found", self.0)
    }
}

#[track_performance("user_api.fetch")]
fn fetch_user(id: u32) -> Result<String, NotFound> {
    std::thread::sleep(Duration::from_micros(200 + u64::from(id % 7) * 50));
    if id.is_multiple_of(10) {
        Err(NotFound(id))
    } else {
        Ok(format!("user-{id}"))
    }
}

#[track_performance]
async fn render_page(id: u32) -> String {
    tokio::time::sleep(Duration::from_micros(300)).await;
    format!("<h1>{id}</h1>")
}

#[tokio::main]
async fn main() {
    let mut found = 0;
    for id in 1..=50 {
        if fetch_user(id).is_ok() {
            found += 1;
        }
        render_page(id).await;
    }
    println!("fetched {found} of 50 users\n");

    println!("{}", coord::report());
}
