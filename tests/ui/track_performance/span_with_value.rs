use coord::track_performance;

#[track_performance(name = "shop.checkout", span = true)]
fn checkout() {}

fn main() {
    checkout();
}
