use coord::track_performance;

#[track_performance]
fn forever() -> ! {
    loop {}
}

fn main() {}
