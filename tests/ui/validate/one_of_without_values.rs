use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(one_of)]
    name: String,
}

fn main() {}
