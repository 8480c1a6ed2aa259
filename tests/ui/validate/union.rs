use coord::Validate;

#[derive(Validate)]
union S {
    a: u32,
}

fn main() {}
