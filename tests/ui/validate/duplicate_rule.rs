use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(email, email)]
    email: String,
}

fn main() {}
