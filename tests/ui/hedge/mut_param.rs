use coord::hedge;

#[hedge(after = "50ms")]
async fn fill(buffer: &mut Vec<u8>) -> Result<usize, String> {
    buffer.push(1);
    Ok(buffer.len())
}

struct Client;

impl Client {
    #[hedge]
    async fn call(&mut self) -> Result<(), String> {
        Ok(())
    }

    #[hedge]
    async fn consume(self) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
