use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(length)]
    name: String,
}

fn main() {}
