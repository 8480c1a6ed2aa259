use coord::Validate;

#[derive(Validate)]
#[validate(scheme = check)]
struct S {
    name: String,
}

fn main() {}
