use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(pattern = 5)]
    name: String,
}

fn main() {}
