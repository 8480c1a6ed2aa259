use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(length(minimum = 1))]
    name: String,
}

fn main() {}
