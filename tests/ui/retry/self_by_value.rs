use coord::retry;

struct Connection;

impl Connection {
    #[retry]
    fn close(self) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
