use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(one_of())]
    level: String,
}

fn main() {}
