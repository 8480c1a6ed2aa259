//! The validator behind [`crate::validator()`] and its bounded-memory report.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, RwLock};

use serde::Serialize;
use serde_json::Value;

use super::registry::rules;
use super::result::{Checks, FieldError, ValidationResult};
use super::rule::RuleSet;
use super::rule_set_ref::AsRuleSet;

/// Distinct rule sets tracked by name; later ones are counted under `other`.
pub const MAX_TRACKED_RULE_SETS: usize = 256;
/// Distinct (rule set, path, rule) failure keys tracked; later ones are counted in
/// [`ValidationReport::other_failures`].
pub const MAX_TRACKED_FAILURES: usize = 1024;
/// Failure keys listed in [`ValidationReport::top_failures`].
pub const TOP_FAILURES: usize = 10;

/// Counters of one rule set (atomics: recording a valid result takes no lock).
#[derive(Debug)]
pub struct RuleSetStats {
    name: String,
    total: AtomicU64,
    valid: AtomicU64,
    passed: AtomicU64,
    applicable: AtomicU64,
}

impl RuleSetStats {
    fn new(name: &str) -> Self {
        RuleSetStats {
            name: name.to_owned(),
            total: AtomicU64::new(0),
            valid: AtomicU64::new(0),
            passed: AtomicU64::new(0),
            applicable: AtomicU64::new(0),
        }
    }

    fn reset(&self) {
        for a in [&self.total, &self.valid, &self.passed, &self.applicable] {
            a.store(0, Relaxed);
        }
    }
}

/// Validates values against rule sets and aggregates every outcome into a report.
#[derive(Debug)]
pub struct Validator {
    sets: RwLock<HashMap<String, Arc<RuleSetStats>>>,
    other: Arc<RuleSetStats>,
    /// Keyed by a hash of (rule set, folded path, rule), so counting a known key allocates
    /// nothing; the entry keeps the texts.
    failures: Mutex<HashMap<u64, FailureCount, BuildHasherDefault<PreHashed>>>,
    other_failures: AtomicU64,
}

static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| Validator {
    sets: RwLock::new(HashMap::new()),
    other: Arc::new(RuleSetStats::new("other")),
    failures: Mutex::new(HashMap::default()),
    other_failures: AtomicU64::new(0),
});

/// The process-wide validator (the door is `crate::validator()`).
pub(crate) fn validator() -> &'static Validator {
    &VALIDATOR
}

impl Validator {
    /// Validates `message` against the built-in `message` rule set (or a loaded replacement) and
    /// records the outcome.
    pub fn validate_message_structure(&self, message: &Value) -> ValidationResult {
        let set = rules()
            .get("message")
            .unwrap_or_else(|| Arc::new(super::registry::message_rule_set()));
        let result = set.validate_value(message);
        self.record(&set.name, &result);
        result
    }

    /// Serializes `value` and validates it against `rule_set` (a [`RuleSet`], or the name of
    /// one in [`rules()`](crate::rules())), recording the outcome. A value that cannot be serialized fails one
    /// `type` check at the root; an unknown rule-set name fails one `rule_set` check.
    ///
    /// ```
    /// let yaml = "docs_user:\n  field_validations:\n    age: { type: integer, min: 18 }\n";
    /// coord::rules().load_yaml(yaml).unwrap();
    /// let by_name = coord::validator().validate_with("docs_user", &serde_json::json!({"age": 7}));
    /// assert_eq!(by_name.errors[0].rule, "range");
    /// let unknown = coord::validator().validate_with("no_such_set", &serde_json::json!({}));
    /// assert_eq!(unknown.errors[0].rule, "rule_set");
    /// ```
    pub fn validate_with<R: AsRuleSet + ?Sized>(
        &self,
        rule_set: &R,
        value: &impl Serialize,
    ) -> ValidationResult {
        let Some(rule_set) = rule_set.as_rule_set() else {
            let name = rule_set.rule_set_name();
            let mut checks = Checks::new();
            checks.fail(
                FieldError::new(
                    "",
                    "rule_set",
                    format!("no rule set named `{name}` is loaded"),
                )
                .with_param("rule_set", name.to_owned()),
            );
            let result = checks.finish();
            self.record(name, &result);
            return result;
        };
        let result = match serde_json::to_value(value) {
            Ok(v) => rule_set.validate_value(&v),
            Err(e) => {
                let mut checks = Checks::new();
                checks.fail(
                    FieldError::new("", "type", format!("cannot be serialized: {e}"))
                        .with_param("expected", "object"),
                );
                checks.finish()
            }
        };
        self.record(&rule_set.name, &result);
        result
    }

    /// The live counters of `name`, created on first use (bounded; overflow shares `other`).
    pub(crate) fn stats(&self, name: &str) -> Arc<RuleSetStats> {
        if let Some(s) = crate::locks::read(&self.sets).get(name) {
            return Arc::clone(s);
        }
        let mut sets = crate::locks::write(&self.sets);
        if sets.len() >= MAX_TRACKED_RULE_SETS && !sets.contains_key(name) {
            return Arc::clone(&self.other);
        }
        Arc::clone(
            sets.entry(name.to_owned())
                .or_insert_with(|| Arc::new(RuleSetStats::new(name))),
        )
    }

    /// Records one outcome of `rule_set`.
    pub fn record(&self, rule_set: &str, result: &ValidationResult) {
        let stats = self.stats(rule_set);
        self.record_in(&stats, result);
    }

    pub(crate) fn record_in(&self, stats: &RuleSetStats, result: &ValidationResult) {
        if !crate::recording::enabled() {
            return;
        }
        crate::metrics_bridge::validation(
            [
                super::section::VALIDATIONS_TOTAL.name,
                super::section::CHECKS_TOTAL.name,
            ],
            &stats.name,
            result.is_valid,
            result.passed,
            result.applicable,
        );
        stats.total.fetch_add(1, Relaxed);
        if result.is_valid {
            stats.valid.fetch_add(1, Relaxed);
        }
        stats.passed.fetch_add(u64::from(result.passed), Relaxed);
        stats
            .applicable
            .fetch_add(u64::from(result.applicable), Relaxed);
        if !result.errors.is_empty() {
            self.record_failures(&stats.name, &result.errors);
        }
    }

    #[cold]
    fn record_failures(&self, rule_set: &str, errors: &[FieldError]) {
        let mut map = crate::locks::lock(&self.failures);
        for e in errors {
            let key = failure_key(rule_set, &e.path, &e.rule);
            if let Some(entry) = map.get_mut(&key) {
                entry.count += 1;
            } else if map.len() < MAX_TRACKED_FAILURES {
                map.insert(
                    key,
                    FailureCount {
                        rule_set: rule_set.to_owned(),
                        path: generic_path(&e.path),
                        rule: e.rule.to_string(),
                        count: 1,
                    },
                );
            } else {
                self.other_failures.fetch_add(1, Relaxed);
            }
        }
    }

    /// Everything recorded since start or the last [`crate::reset`].
    pub fn validation_report(&self) -> ValidationReport {
        let mut rule_sets: Vec<RuleSetReport> = crate::locks::read(&self.sets)
            .values()
            .chain(std::iter::once(&self.other))
            .map(|s| RuleSetReport::from_stats(s))
            .filter(|r| r.total > 0)
            .collect();
        rule_sets.sort_by(|a, b| a.name.cmp(&b.name));
        let total = rule_sets.iter().map(|r| r.total).sum();
        let valid = rule_sets.iter().map(|r| r.valid).sum();
        let passed = rule_sets.iter().map(|r| r.passed_checks).sum();
        let applicable = rule_sets.iter().map(|r| r.applicable_checks).sum();
        let mut top_failures: Vec<FailureCount> = crate::locks::lock(&self.failures)
            .values()
            .cloned()
            .collect();
        top_failures.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| (&a.rule_set, &a.path, &a.rule).cmp(&(&b.rule_set, &b.path, &b.rule)))
        });
        let mut other_failures = self.other_failures.load(Relaxed);
        if top_failures.len() > TOP_FAILURES {
            other_failures += top_failures[TOP_FAILURES..]
                .iter()
                .map(|f| f.count)
                .sum::<u64>();
            top_failures.truncate(TOP_FAILURES);
        }
        ValidationReport {
            total,
            valid,
            invalid: total - valid,
            compliance_score: compliance(passed, applicable),
            passed_checks: passed,
            applicable_checks: applicable,
            rule_sets,
            top_failures,
            other_failures,
        }
    }

    /// Every tracked failure key of `rule_set`, most frequent first (the report lists only the
    /// top few over all rule sets).
    pub fn failures(&self, rule_set: &str) -> Vec<FailureCount> {
        let mut out: Vec<FailureCount> = crate::locks::lock(&self.failures)
            .values()
            .filter(|f| f.rule_set == rule_set)
            .cloned()
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.path.cmp(&b.path)));
        out
    }

    pub(crate) fn reset(&self) {
        for s in crate::locks::read(&self.sets).values() {
            s.reset();
        }
        self.other.reset();
        crate::locks::lock(&self.failures).clear();
        self.other_failures.store(0, Relaxed);
    }
}

/// The failure map's keys are already hashes: use them as they are.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Hash of (rule set, folded path, rule) without building the folded path.
fn failure_key(rule_set: &str, path: &str, rule: &str) -> u64 {
    // FNV-1a: the texts are short, and a collision only merges two counters.
    struct Fnv(u64);
    impl Fnv {
        fn write_u8(&mut self, b: u8) {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.write_u8(*b);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    h.write(rule_set.as_bytes());
    h.write_u8(0xff);
    // Same folding as `generic_path`: digits right after `[` become `*`.
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        h.write_u8(b);
        i += 1;
        if b == b'[' && bytes.get(i).is_some_and(u8::is_ascii_digit) {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            h.write_u8(b'*');
        }
    }
    h.write_u8(0xff);
    h.write(rule.as_bytes());
    h.0
}

/// `tags[3].name` → `tags[*].name`, so failures of every item aggregate under one key.
fn generic_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('*');
        }
    }
    out
}

fn compliance(passed: u64, applicable: u64) -> f64 {
    if applicable == 0 {
        100.0
    } else {
        passed as f64 / applicable as f64 * 100.0
    }
}

/// Aggregate of every validation since start or the last [`crate::reset`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ValidationReport {
    /// Validations recorded.
    pub total: u64,
    /// Validations without a failed check.
    pub valid: u64,
    /// Validations with at least one failed check.
    pub invalid: u64,
    /// Passed ÷ applicable checks over all validations × 100 (100 when nothing applied).
    pub compliance_score: f64,
    /// Checks that passed, over all validations.
    pub passed_checks: u64,
    /// Checks that applied, over all validations.
    pub applicable_checks: u64,
    /// Per rule set, sorted by name (overflow beyond [`MAX_TRACKED_RULE_SETS`] is `other`).
    pub rule_sets: Vec<RuleSetReport>,
    /// The most frequent failing (rule set, path, rule) triples, most frequent first; item
    /// indices are folded (`tags[*]`).
    pub top_failures: Vec<FailureCount>,
    /// Failures not listed in `top_failures`.
    pub other_failures: u64,
}

impl ValidationReport {
    /// The entry of `rule_set`.
    pub fn rule_set(&self, rule_set: &str) -> Option<&RuleSetReport> {
        self.rule_sets.iter().find(|r| r.name == rule_set)
    }
}

/// One rule set's share of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RuleSetReport {
    /// The rule set (or `other`).
    pub name: String,
    /// Validations.
    pub total: u64,
    /// Valid ones.
    pub valid: u64,
    /// Invalid ones.
    pub invalid: u64,
    /// Passed ÷ applicable × 100.
    pub compliance_score: f64,
    /// Checks that passed.
    pub passed_checks: u64,
    /// Checks that applied.
    pub applicable_checks: u64,
}

impl RuleSetReport {
    fn from_stats(s: &RuleSetStats) -> Self {
        let total = s.total.load(Relaxed);
        let valid = s.valid.load(Relaxed).min(total);
        let passed = s.passed.load(Relaxed);
        let applicable = s.applicable.load(Relaxed);
        RuleSetReport {
            name: s.name.clone(),
            total,
            valid,
            invalid: total - valid,
            compliance_score: compliance(passed, applicable),
            passed_checks: passed,
            applicable_checks: applicable,
        }
    }
}

/// How often one (rule set, path, rule) failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FailureCount {
    /// The rule set.
    pub rule_set: String,
    /// The path, item indices folded to `[*]`.
    pub path: String,
    /// The rule code.
    pub rule: String,
    /// Failures.
    pub count: u64,
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "validation: {} total, {} valid, {} invalid, compliance {:.1}%",
            self.total, self.valid, self.invalid, self.compliance_score
        )?;
        for r in &self.rule_sets {
            writeln!(
                f,
                "  {:<24} {:>8} total {:>8} valid {:>8} invalid {:>6.1}%",
                r.name, r.total, r.valid, r.invalid, r.compliance_score
            )?;
        }
        if !self.top_failures.is_empty() {
            writeln!(f, "  top failures:")?;
            for t in &self.top_failures {
                let path = if t.path.is_empty() { "(root)" } else { &t.path };
                writeln!(
                    f,
                    "    {:>8}  {} {} [{}]",
                    t.count, t.rule_set, path, t.rule
                )?;
            }
        }
        if self.other_failures > 0 {
            writeln!(f, "    {:>8}  other", self.other_failures)?;
        }
        Ok(())
    }
}

/// Per-type state of a derived `Validate` impl: registers the type's rule set (and those of its
/// nested types) on first use and caches its counters, so recording a valid result is a few
/// atomic adds.
#[derive(Debug)]
pub struct DerivedSite {
    name: &'static str,
    stats: OnceLock<Arc<RuleSetStats>>,
}

/// Registers a derived type's rule set unless one of that name exists; `true` when it was added
/// (so the caller goes on to register its nested types, and recursive types stop).
pub(crate) fn register_rule_set(build: fn() -> RuleSet) -> bool {
    rules().insert_if_absent(build())
}

impl DerivedSite {
    /// A site for type `name`.
    pub const fn new(name: &'static str) -> Self {
        DerivedSite {
            name,
            stats: OnceLock::new(),
        }
    }

    /// Records and returns the result of one top-level validation; `register` runs once.
    #[inline]
    pub fn finish(&self, checks: Checks, register: impl FnOnce()) -> ValidationResult {
        let stats = self.stats.get_or_init(|| {
            register();
            validator().stats(self.name)
        });
        let result = checks.finish();
        validator().record_in(stats, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> Validator {
        Validator {
            sets: RwLock::new(HashMap::new()),
            other: Arc::new(RuleSetStats::new("other")),
            failures: Mutex::new(HashMap::default()),
            other_failures: AtomicU64::new(0),
        }
    }

    fn failing(path: String) -> ValidationResult {
        let mut c = Checks::new();
        c.pass();
        c.fail(FieldError::new(path, "length", "x"));
        c.finish()
    }

    #[test]
    fn memory_stays_bounded_and_overflow_is_counted() {
        let v = fresh();
        for i in 0..(MAX_TRACKED_FAILURES + 500) {
            v.record(
                &format!("set{}", i % (MAX_TRACKED_RULE_SETS + 10)),
                &failing(format!("m[\"k{i}\"]")),
            );
        }
        assert!(v.sets.read().unwrap().len() <= MAX_TRACKED_RULE_SETS);
        assert!(v.failures.lock().unwrap().len() <= MAX_TRACKED_FAILURES);
        let r = v.validation_report();
        assert_eq!(r.total, (MAX_TRACKED_FAILURES + 500) as u64);
        assert_eq!(r.invalid, r.total);
        assert_eq!(r.compliance_score, 50.0);
        assert!(r.rule_set("other").is_some_and(|o| o.total > 0));
        assert_eq!(r.top_failures.len(), TOP_FAILURES);
        let listed: u64 = r.top_failures.iter().map(|f| f.count).sum();
        assert_eq!(listed + r.other_failures, r.total);
        v.reset();
        let r = v.validation_report();
        assert_eq!((r.total, r.other_failures, r.top_failures.len()), (0, 0, 0));
    }

    #[test]
    fn indices_fold() {
        assert_eq!(generic_path("tags[12].name"), "tags[*].name");
        assert_eq!(generic_path("m[\"1\"]"), "m[\"1\"]");
    }
}
