use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(length(min = 10, max = 2))]
    name: String,
}

fn main() {}
