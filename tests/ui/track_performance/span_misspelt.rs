use coord::track_performance;

#[track_performance(name = "shop.checkout", spna)]
fn checkout() {}

fn main() {
    checkout();
}
