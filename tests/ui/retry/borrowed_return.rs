use coord::retry;

struct Cache {
    value: u8,
}

impl Cache {
    #[retry(max_retries = 1)]
    fn slot(&mut self) -> Result<&mut u8, String> {
        Ok(&mut self.value)
    }
}

fn main() {}
