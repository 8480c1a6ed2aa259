use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(required)]
    name: String,
}

fn main() {}
