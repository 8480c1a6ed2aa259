use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(schema = check)]
    name: String,
}

fn main() {}
