use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(range(min = 120, max = 18))]
    age: u32,
}

fn main() {}
