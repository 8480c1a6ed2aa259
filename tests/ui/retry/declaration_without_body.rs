use coord::retry;

trait Fetch {
    #[retry]
    fn fetch(&self) -> Result<(), String>;
}

fn main() {}
