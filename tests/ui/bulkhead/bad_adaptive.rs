use coord::bulkhead;

#[derive(Debug)]
struct Busy;

impl From<coord::BulkheadFull> for Busy {
    fn from(_: coord::BulkheadFull) -> Self {
        Busy
    }
}

#[bulkhead(max_concurrent = 50, adaptive = "vegs")]
fn misspelt() -> Result<(), Busy> {
    Ok(())
}

#[bulkhead(adaptive = 3)]
fn not_a_name() -> Result<(), Busy> {
    Ok(())
}

fn main() {}
