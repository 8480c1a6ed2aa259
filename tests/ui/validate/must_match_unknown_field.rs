use coord::Validate;

#[derive(Validate)]
struct S {
    password: String,
    #[validate(must_match = "pasword")]
    confirm: String,
}

fn main() {}
