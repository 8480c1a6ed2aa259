use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(email(message = 3))]
    email: String,
}

fn main() {}
