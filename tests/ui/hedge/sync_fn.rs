use coord::hedge;

#[hedge(after = "50ms")]
fn lookup(key: u32) -> Result<u32, String> {
    Ok(key)
}

fn main() {}
