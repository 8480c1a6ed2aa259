use coord::{BulkheadFull, bulkhead};

#[bulkhead(max_concurrent = 0)]
fn work() -> Result<u32, BulkheadFull> {
    Ok(1)
}

fn main() {}
