use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(emial)]
    email: String,
}

fn main() {}
