use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(emial)]
    email: String,
    #[validate(range(min = 5, max = 1))]
    age: u32,
    #[validate(required)]
    name: String,
}

fn main() {}
