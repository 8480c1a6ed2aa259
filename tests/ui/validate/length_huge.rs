use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(length(max = 99999999999999999999999))]
    name: String,
}

fn main() {}
