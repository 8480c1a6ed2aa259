use coord::{BulkheadFull, bulkhead};

#[bulkhead(max_concurent = 2)]
fn work() -> Result<u32, BulkheadFull> {
    Ok(1)
}

fn main() {}
