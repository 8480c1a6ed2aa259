use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(each(length(max = 2)))]
    name: String,
}

fn main() {}
