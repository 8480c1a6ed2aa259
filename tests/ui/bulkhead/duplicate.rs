use coord::{BulkheadFull, bulkhead};

#[bulkhead]
#[bulkhead]
fn work() -> Result<u32, BulkheadFull> {
    Ok(1)
}

fn main() {}
