//! Every compile error of `#[track_performance]`, pinned by its `.stderr` snapshot.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/track_performance/*.rs");
}
