//! Compile errors of `#[timeout]`: each case in `tests/ui/timeout/` with the exact message in its
//! `.stderr`.

#[test]
fn timeout_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/timeout/*.rs");
}
