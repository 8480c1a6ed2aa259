//! Compile errors of `#[circuit_breaker]`: each case in `tests/ui/circuit_breaker/` with the
//! exact message in its `.stderr`.

#[test]
fn circuit_breaker_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/circuit_breaker/*.rs");
}
