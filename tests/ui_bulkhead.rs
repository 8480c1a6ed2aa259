//! Compile errors of `#[bulkhead]`: each case in `tests/ui/bulkhead/` with the exact message in its
//! `.stderr`.

#[test]
fn bulkhead_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/bulkhead/*.rs");
}
