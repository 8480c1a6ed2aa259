use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(must_match)]
    name: String,
}

fn main() {}
