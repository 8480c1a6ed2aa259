use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(custom)]
    name: String,
}

fn main() {}
