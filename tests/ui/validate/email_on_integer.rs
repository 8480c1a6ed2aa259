use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(email)]
    id: u64,
}

fn main() {}
