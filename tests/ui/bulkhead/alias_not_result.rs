// The attribute sees only an alias, so the type system finds the missing `Result`: the message
// is spanned at the attribute that needs it.
type Count = u32;

#[coord::bulkhead(max_concurrent = 2)]
fn work() -> Count {
    1
}

fn main() {}
