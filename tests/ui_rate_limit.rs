//! Compile errors of `#[rate_limit]`: each case in `tests/ui/rate_limit/` with the exact message in its
//! `.stderr`.

#[test]
fn rate_limit_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/rate_limit/*.rs");
}
