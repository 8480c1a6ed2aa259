use coord::Validate;

struct Inner;

#[derive(Validate)]
struct S {
    #[validate(nested)]
    inner: Inner,
}

fn main() {}
