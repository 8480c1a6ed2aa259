use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(pattern = "([a-z]+")]
    name: String,
}

fn main() {}
