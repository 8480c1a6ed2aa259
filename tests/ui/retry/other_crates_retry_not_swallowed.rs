// `#[other::retry]` is not coord's: it is left on the function for rustc to resolve.
mod other {}

#[coord::track_performance]
#[other::retry]
fn fetch() -> Result<(), String> {
    Ok(())
}

fn main() {}
