use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(pattern)]
    name: String,
}

fn main() {}
