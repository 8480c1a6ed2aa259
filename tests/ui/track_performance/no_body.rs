use coord::track_performance;

trait Store {
    #[track_performance]
    fn load(&self) -> u32;
}

fn main() {}
