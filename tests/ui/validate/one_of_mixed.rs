use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(one_of("low", 2))]
    level: String,
}

fn main() {}
