use coord::track_performance;

fn classify(value: &u32) -> bool {
    *value > 3
}

#[track_performance(outcome = classify)]
fn count() -> u32 {
    7
}

fn main() {
    count();
}
