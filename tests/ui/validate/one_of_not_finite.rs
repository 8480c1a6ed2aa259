use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(one_of(1.0, 1e999))]
    score: f64,
}

fn main() {}
