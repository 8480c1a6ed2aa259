use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(each)]
    tags: Vec<String>,
}

fn main() {}
