use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(custom = 5)]
    name: String,
}

fn main() {}
