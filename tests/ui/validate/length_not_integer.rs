use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(length(min = "2"))]
    name: String,
}

fn main() {}
