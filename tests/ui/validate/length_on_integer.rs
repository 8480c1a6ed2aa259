use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(length(max = 3))]
    count: u32,
}

fn main() {}
