use coord::retry;

#[retry]
fn fetch() -> Result<(), String> {
    let x = ;
    Ok(())
}

fn main() {}
