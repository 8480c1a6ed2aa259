//! Compile errors of `#[retry]`: one trybuild case per message.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/retry/*.rs");
}
