//! Compile errors of `#[fallback]`: each case in `tests/ui/fallback/` with the exact message in its
//! `.stderr`.

#[test]
fn fallback_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/fallback/*.rs");
}
