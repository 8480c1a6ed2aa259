//! What validation allocates, watched by a counting global allocator (own test binary). Valid
//! input allocates nothing: `#[derive(Validate)]` builds paths and messages only when a check
//! fails. Invalid input allocates a bounded, small amount: field errors keep short paths, default
//! messages and numeric params inline, so a failing validation allocates its error list and
//! little else.

use std::collections::BTreeMap;

use coord::Validate;
use serde_json::json;

mod support;

use support::alloc::{Counting, allocations_during};
use support::paths_and_rules;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Validate)]
struct Address {
    #[validate(length(equal = 5), pattern = "^[0-9]+$")]
    zip: String,
}

#[derive(Validate)]
struct Order {
    #[validate(length(min = 2, max = 50))]
    name: String,
    #[validate(email)]
    email: String,
    #[validate(url)]
    site: String,
    #[validate(range(min = 1, max = 100))]
    quantity: u32,
    #[validate(required, uuid)]
    id: Option<String>,
    #[validate(datetime)]
    at: String,
    #[validate(one_of("low", "high"))]
    priority: String,
    #[validate(length(max = 3), each(length(min = 1)))]
    tags: Vec<String>,
    #[validate(each(range(max = 10)))]
    limits: BTreeMap<String, u8>,
    #[validate(nested)]
    address: Address,
}

#[test]
fn valid_input_does_not_allocate() {
    let order = Order {
        name: "Ada".into(),
        email: "ada@example.com".into(),
        site: "https://example.com/orders?id=7".into(),
        quantity: 3,
        id: Some("2eb8aa08-aa98-11ea-b4aa-73b441d16380".into()),
        at: "2024-01-01T12:00:00Z".into(),
        priority: "high".into(),
        tags: vec!["a".into(), "b".into()],
        limits: [("eu".to_string(), 3)].into_iter().collect(),
        address: Address {
            zip: "12345".into(),
        },
    };
    // The first call registers the type's rule set and compiles its pattern.
    assert!(order.validate().is_valid);
    let (n, result) = allocations_during(|| order.validate());
    assert!(result.is_valid, "{result}");
    assert_eq!(result.applicable, 14);
    assert_eq!(n, 0, "valid input allocated {n} times");

    // A failure does allocate (its error list), which the counter sees; the test below bounds
    // how much.
    let bad = Order {
        quantity: 0,
        ..order
    };
    let (n, result) = allocations_during(|| bad.validate());
    assert!(!result.is_valid);
    assert!(n > 0);
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
    assert_eq!(
        paths_and_rules(&r),
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
    assert_eq!(
        paths_and_rules(&r),
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
