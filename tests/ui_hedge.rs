//! Compile errors of `#[hedge]`: each case in `tests/ui/hedge/` with the exact message in its
//! `.stderr`.

#[test]
fn hedge_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/hedge/*.rs");
}
