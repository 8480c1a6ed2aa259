use coord::track_performance;

#[track_performance(outcome = "classify")]
fn count() -> u32 {
    7
}

fn main() {
    count();
}
