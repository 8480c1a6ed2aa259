use coord::Validate;

#[derive(Validate)]
struct S {
    #[validate(range(max = 1e999))]
    score: f64,
}

fn main() {}
