//! Every compile error of `#[track_performance]` (its `objective` key included) and of a
//! literal objective threshold between buckets (`coord::objectives::bucket_bound` in a
//! `const`), pinned by their `.stderr` snapshots.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/track_performance/*.rs");
    cases.compile_fail("tests/ui/objectives/*.rs");
}
