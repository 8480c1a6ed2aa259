//! Every compile error of `#[derive(Validate)]`, pinned by a trybuild `.stderr` snapshot.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/validate/*.rs");
}
