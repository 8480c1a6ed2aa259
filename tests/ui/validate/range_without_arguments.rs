use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(range)]
    age: u32,
}

fn main() {}
