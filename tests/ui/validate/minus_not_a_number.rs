use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(range(min = -"a"))]
    age: i32,
}

fn main() {}
