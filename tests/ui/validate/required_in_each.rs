use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(each(required))]
    tags: Vec<String>,
}

fn main() {}
