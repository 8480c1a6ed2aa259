//! Invalid input allocates a bounded, small amount: field errors keep short paths, default
//! messages and numeric params inline, so a failing validation allocates its error list and
//! little else. A counting global allocator watches one validation (its own test binary, and a
//! single test, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use coord::Validate;
use serde_json::json;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(SeqCst) {
            ALLOCATIONS.fetch_add(1, SeqCst);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(SeqCst) {
            ALLOCATIONS.fetch_add(1, SeqCst);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<R>(f: impl FnOnce() -> R) -> (usize, R) {
    ALLOCATIONS.store(0, SeqCst);
    COUNTING.store(true, SeqCst);
    let r = f();
    COUNTING.store(false, SeqCst);
    (ALLOCATIONS.load(SeqCst), r)
}

#[derive(Validate)]
struct Address {
    #[validate(length(equal = 5))]
    zip: String,
}

#[derive(Validate)]
struct Signup {
    #[validate(length(min = 2, max = 50))]
    name: String,
    #[validate(email)]
    email: String,
    #[validate(url)]
    homepage: String,
    #[validate(range(min = 18, max = 120))]
    age: u32,
    #[validate(required)]
    id: Option<String>,
    #[validate(length(max = 2), each(length(min = 1)))]
    tags: Vec<String>,
    #[validate(each(range(max = 10)))]
    limits: BTreeMap<String, u8>,
    #[validate(nested)]
    address: Address,
}

const YAML: &str = r#"
invalid_alloc_user:
  field_validations:
    name: {type: string, min_length: 2, max_length: 50}
    email: {type: email}
    age: {type: integer, min: 18, max: 120}
    homepage: {type: url}
    tags: {type: array, max_length: 2, each: {min_length: 1}}
    id: {required: true}
"#;

#[test]
fn invalid_input_allocates_only_its_error_list() {
    let bad = Signup {
        name: "A".into(),
        email: "ada@@example".into(),
        homepage: "http://999.999.999.999/".into(),
        age: 12,
        id: None,
        tags: vec!["a".into(), String::new(), "c".into()],
        limits: [("eu".to_string(), 30)].into_iter().collect(),
        address: Address {
            zip: "12345".into(),
        },
    };
    // The first call registers the type's rule set and the report's failure keys.
    let _ = bad.validate();
    let (n, r) = allocations_during(|| bad.validate());
    let found: Vec<(&str, &str)> = r
        .errors
        .iter()
        .map(|e| (e.path.as_str(), e.rule.as_ref()))
        .collect();
    assert_eq!(
        found,
        [
            ("name", "length"),
            ("email", "email"),
            ("homepage", "url"),
            ("age", "range"),
            ("id", "required"),
            ("tags", "length"),
            ("tags[1]", "length"),
            ("limits[\"eu\"]", "range"),
        ]
    );
    assert_eq!(r.errors[0].message, "must have 2 to 50 characters, got 1");
    assert_eq!(r.errors[3].params["min"], json!(18));
    assert_eq!(r.errors[8 - 1].params["actual"], json!(30));
    assert_eq!(
        n, 1,
        "8 errors took {n} allocations (expected: the error list only)"
    );

    // Nested paths too; a ninth error grows the list once.
    let worse = Signup {
        address: Address { zip: "1".into() },
        ..bad
    };
    let _ = worse.validate();
    let (n, r) = allocations_during(|| worse.validate());
    assert_eq!(
        r.errors.last().map(|e| e.path.as_str()),
        Some("address.zip")
    );
    assert!(n <= 2, "9 errors took {n} allocations");

    // The YAML engine on a `serde_json::Value`: same bound.
    coord::rules().load_yaml(YAML).expect("rules load");
    let set = coord::rules().get("invalid_alloc_user").expect("loaded");
    let v = json!({
        "name": "A", "email": "ada@@example", "age": 12,
        "homepage": "http://999.999.999.999/", "tags": ["a", "", "c"],
    });
    let (n, r) = allocations_during(|| set.validate_value(&v));
    let found: Vec<(&str, &str)> = r
        .errors
        .iter()
        .map(|e| (e.path.as_str(), e.rule.as_ref()))
        .collect();
    assert_eq!(
        found,
        [
            ("name", "length"),
            ("email", "email"),
            ("age", "range"),
            ("homepage", "url"),
            ("tags", "length"),
            ("tags[1]", "length"),
            ("id", "required"),
        ]
    );
    assert_eq!(n, 1, "7 rule-set errors took {n} allocations");
}
