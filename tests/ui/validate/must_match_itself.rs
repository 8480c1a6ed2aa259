use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(must_match = "confirm")]
    confirm: String,
}

fn main() {}
