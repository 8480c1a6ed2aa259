use coord::{BulkheadFull, bulkhead};

#[bulkhead(max_wait = "10")]
fn work() -> Result<u32, BulkheadFull> {
    Ok(1)
}

fn main() {}
