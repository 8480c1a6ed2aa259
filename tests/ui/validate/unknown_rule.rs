use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(frobnicate)]
    name: String,
}

fn main() {}
