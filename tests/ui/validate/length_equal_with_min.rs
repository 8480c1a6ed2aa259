use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(length(min = 1, equal = 3))]
    name: String,
}

fn main() {}
