use coord::retry;

#[retry]
fn forever() -> ! {
    loop {}
}

fn main() {}
