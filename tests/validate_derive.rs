//! `#[derive(Validate)]` through the public API: every rule positive and negative, the same
//! codes and paths as the YAML rule language, serde renames, Option/collections/maps, enums,
//! generics, scores and registration.

use std::collections::{BTreeMap, HashMap};

use coord::{RuleError, Validate, ValidationResult};
use serde::Serialize;
use serde_json::json;

mod support;

use support::{codes, pairs};

/// Validates `value` with the YAML rule set `yaml` (loaded under a unique name) and returns the
/// (path, rule) pairs, so each derive test can assert the YAML path agrees.
fn yaml_codes(name: &str, yaml: &str, value: &impl Serialize) -> Vec<(String, String)> {
    coord::rules()
        .load_yaml(yaml)
        .unwrap_or_else(|e| panic!("{e}"));
    let set = coord::rules().get(name).expect("loaded");
    codes(&coord::validator().validate_with(&set, value))
}

/// Asserts that the derive's result `r` fails exactly `expected` (path, rule) pairs, and that
/// the YAML rule set `(name, yaml)` fails the same ones on the same value.
#[track_caller]
fn assert_same_failures(
    r: &ValidationResult,
    (name, yaml, value): (&str, &str, &impl Serialize),
    expected: &[(&str, &str)],
) {
    let expected = pairs(expected);
    assert_eq!(codes(r), expected);
    assert_eq!(yaml_codes(name, yaml, value), expected);
}

#[derive(Validate, Serialize)]
struct Profile {
    #[validate(length(min = 2, max = 50))]
    name: String,
    #[validate(email)]
    email: String,
    #[validate(range(min = 18, max = 120))]
    age: u32,
    #[validate(url)]
    homepage: Option<String>,
    #[validate(length(max = 3), each(length(min = 1, max = 5)))]
    tags: Vec<String>,
}

const PROFILE_YAML: &str = r#"
derive_profile_yaml:
  field_validations:
    name: {type: string, min_length: 2, max_length: 50}
    email: {type: email}
    age: {type: integer, min: 18, max: 120}
    homepage: {type: url}
    tags: {type: array, max_length: 3, each: {type: string, min_length: 1, max_length: 5}}
"#;

fn profile() -> Profile {
    Profile {
        name: "Ada".into(),
        email: "ada@example.com".into(),
        age: 36,
        homepage: Some("https://ada.example".into()),
        tags: vec!["math".into(), "eng".into()],
    }
}

#[test]
fn valid_profile_scores_100_and_counts_checks() {
    let r = profile().validate();
    assert!(r.is_valid, "{r}");
    assert_eq!(r.score, 100.0);
    // name, email, age, homepage, tags length, 2 × item length
    assert_eq!((r.passed, r.applicable), (7, 7));
}

#[test]
fn each_rule_fails_with_the_same_codes_and_paths_as_yaml() {
    let bad = Profile {
        name: "A".into(),
        email: "not-an-email".into(),
        age: 12,
        homepage: Some("http://999.999.999.999/".into()),
        tags: vec!["ok".into(), "".into(), "toolong".into(), "x".into()],
    };
    let r = bad.validate();
    assert_same_failures(
        &r,
        ("derive_profile_yaml", PROFILE_YAML, &bad),
        &[
            ("name", "length"),
            ("email", "email"),
            ("age", "range"),
            ("homepage", "url"),
            ("tags", "length"),
            ("tags[1]", "length"),
            ("tags[2]", "length"),
        ],
    );
    assert!(!r.is_valid);
    assert_eq!((r.passed, r.applicable), (2, 9));
    let age = r.errors_at("age").next().unwrap();
    assert_eq!(age.params["min"], json!(18));
    assert_eq!(age.params["max"], json!(120));
    assert_eq!(age.params["actual"], json!(12));
    let name = r.errors_at("name").next().unwrap();
    assert_eq!(name.params["actual"], json!(1));
    assert_eq!(name.message, "must have 2 to 50 characters, got 1");
}

#[test]
fn absent_optional_is_not_applicable() {
    let p = Profile {
        homepage: None,
        ..profile()
    };
    let r = p.validate();
    assert!(r.is_valid);
    assert_eq!(r.applicable, 6);
    let yaml = yaml_codes("derive_profile_yaml", PROFILE_YAML, &p);
    assert!(yaml.is_empty());
}

#[derive(Validate, Serialize)]
struct Account {
    #[validate(required)]
    id: Option<String>,
    #[validate(required(message = "a nickname is needed"), length(min = 3))]
    nickname: Option<String>,
    #[validate(pattern = "^[a-z]+$")]
    handle: String,
    #[validate(one_of("low", "normal", "high"))]
    priority: String,
    #[validate(one_of(1, 2, 3))]
    level: u8,
    #[validate(uuid)]
    uuid: String,
    #[validate(datetime)]
    created: String,
    password: String,
    #[validate(must_match = "password")]
    confirm: String,
}

const ACCOUNT_YAML: &str = r#"
derive_account_yaml:
  required_fields: [id]
  field_validations:
    nickname: {required: true, type: string, min_length: 3}
    handle: {type: string, pattern: "^[a-z]+$"}
    priority: {type: string, one_of: [low, normal, high]}
    level: {type: integer, one_of: [1, 2, 3]}
    uuid: {type: uuid}
    created: {type: datetime}
    confirm: {must_match: password}
"#;

fn account() -> Account {
    Account {
        id: Some("u1".into()),
        nickname: Some("ada".into()),
        handle: "ada".into(),
        priority: "high".into(),
        level: 2,
        uuid: "2eb8aa08-aa98-11ea-b4aa-73b441d16380".into(),
        created: "2024-01-01T12:00:00Z".into(),
        password: "s3cret".into(),
        confirm: "s3cret".into(),
    }
}

#[test]
fn account_rules_pass() {
    let a = account();
    let r = a.validate();
    assert!(r.is_valid, "{r}");
    assert_eq!(r.applicable, 9);
    assert!(yaml_codes("derive_account_yaml", ACCOUNT_YAML, &a).is_empty());
}

#[test]
fn account_rules_fail_alike_on_both_paths() {
    let a = Account {
        id: None,
        nickname: None,
        handle: "Ada!".into(),
        priority: "urgent".into(),
        level: 7,
        uuid: "2eb8aa08aa9811eab4aa73b441d16380".into(),
        created: "2023-02-29T12:00:00Z".into(),
        password: "a".into(),
        confirm: "b".into(),
    };
    let r = a.validate();
    assert_same_failures(
        &r,
        ("derive_account_yaml", ACCOUNT_YAML, &a),
        &[
            ("id", "required"),
            ("nickname", "required"),
            ("handle", "pattern"),
            ("priority", "one_of"),
            ("level", "one_of"),
            ("uuid", "uuid"),
            ("created", "datetime"),
            ("confirm", "must_match"),
        ],
    );
    assert_eq!(r.errors[1].message, "a nickname is needed");
    assert_eq!(r.score, 0.0);
    assert_eq!(
        r.errors[3].params["one_of"],
        json!(["low", "normal", "high"])
    );
}

#[derive(Validate, Serialize)]
#[serde(rename_all = "camelCase")]
struct Renamed {
    #[validate(length(min = 1))]
    first_name: String,
    #[serde(rename = "zip-code")]
    #[validate(length(equal = 5))]
    zip: String,
    #[validate(nested)]
    home_address: Address,
}

#[derive(Validate, Serialize)]
struct Address {
    #[validate(length(min = 1, message = "street is empty"))]
    street: String,
    #[validate(length(equal = 5))]
    zip: String,
}

#[test]
fn serde_renames_and_nested_paths() {
    let r = Renamed {
        first_name: String::new(),
        zip: "123".into(),
        home_address: Address {
            street: String::new(),
            zip: "1".into(),
        },
    }
    .validate();
    assert_eq!(
        codes(&r),
        pairs(&[
            ("firstName", "length"),
            ("zip-code", "length"),
            ("homeAddress.street", "length"),
            ("homeAddress.zip", "length"),
        ])
    );
    assert_eq!(r.errors[2].message, "street is empty");
}

/// A struct declared by a user's `macro_rules!`: the rename arrives in a fragment.
macro_rules! renamed_through {
    ($wire:expr) => {
        #[derive(Validate, Serialize)]
        struct RenamedThrough {
            #[serde(rename = $wire)]
            #[validate(length(equal = 5))]
            zip: String,
        }
    };
}

renamed_through!("zip-code");

#[test]
fn a_serde_rename_passed_through_a_macro_rules_fragment_names_the_field() {
    let r = RenamedThrough { zip: "123".into() }.validate();
    assert_eq!(codes(&r), pairs(&[("zip-code", "length")]));
}

#[derive(Validate)]
struct Collections {
    #[validate(each(email))]
    contacts: Vec<String>,
    #[validate(each(range(max = 100)))]
    limits: BTreeMap<String, u32>,
    #[validate(each(length(max = 2)))]
    labels: HashMap<String, String>,
    #[validate(nested)]
    addresses: Vec<Address>,
    #[validate(each(required, length(min = 2)))]
    aliases: Vec<Option<String>>,
    #[validate(length(min = 1, max = 2))]
    fixed: [u8; 3],
}

#[test]
fn collections_use_indices_and_map_keys() {
    let mut limits = BTreeMap::new();
    limits.insert("eu".to_string(), 500);
    limits.insert("us".to_string(), 5);
    let mut labels = HashMap::new();
    labels.insert("k\"1".to_string(), "long".to_string());
    let r = Collections {
        contacts: vec!["a@b.co".into(), "nope".into()],
        limits,
        labels,
        addresses: vec![
            Address {
                street: "x".into(),
                zip: "12345".into(),
            },
            Address {
                street: "y".into(),
                zip: "9".into(),
            },
        ],
        aliases: vec![Some("ok".into()), None, Some("x".into())],
        fixed: [1, 2, 3],
    }
    .validate();
    assert_eq!(
        codes(&r),
        pairs(&[
            ("contacts[1]", "email"),
            ("limits[\"eu\"]", "range"),
            ("labels[\"k\\\"1\"]", "length"),
            ("addresses[1].zip", "length"),
            ("aliases[1]", "required"),
            ("aliases[2]", "length"),
            ("fixed", "length"),
        ])
    );
}

#[derive(Validate)]
enum Contact {
    Email {
        #[validate(email)]
        address: String,
    },
    Phone(#[validate(pattern = r"^\+?[0-9 ]{6,}$")] String),
    Pair(
        #[validate(length(min = 1))] String,
        #[validate(range(min = 1))] u32,
    ),
    Unknown,
}

#[test]
fn enums_check_the_active_variant() {
    assert!(
        Contact::Email {
            address: "a@b.co".into()
        }
        .validate()
        .is_valid
    );
    let r = Contact::Email {
        address: "x".into(),
    }
    .validate();
    assert_eq!(codes(&r), pairs(&[("address", "email")]));
    let r = Contact::Phone("abc".into()).validate();
    assert_eq!(codes(&r), pairs(&[("", "pattern")]));
    let r = Contact::Pair(String::new(), 0).validate();
    assert_eq!(codes(&r), pairs(&[("[0]", "length"), ("[1]", "range")]));
    let r = Contact::Unknown.validate();
    assert!(r.is_valid);
    assert_eq!(r.applicable, 0);
}

#[derive(Validate)]
struct Wrapper<T> {
    #[validate(nested)]
    inner: T,
    #[validate(length(max = 1))]
    items: Vec<T>,
}

#[derive(Validate)]
struct Tuple(
    #[validate(range(min = -5, max = 5.5))] f64,
    #[validate(url)] String,
);

#[test]
fn generics_and_tuple_structs() {
    let w = Wrapper {
        inner: Address {
            street: String::new(),
            zip: "12345".into(),
        },
        items: vec![],
    };
    assert_eq!(codes(&w.validate()), pairs(&[("inner.street", "length")]));
    let r = Tuple(-6.0, "https://x.y".into()).validate();
    assert_eq!(codes(&r), pairs(&[("[0]", "range")]));
    assert_eq!(r.errors[0].params["min"], json!(-5));
    assert!(Tuple(5.5, "https://x.y".into()).validate().is_valid);
}

fn even(n: &u32) -> Result<(), RuleError> {
    if n.is_multiple_of(2) {
        Ok(())
    } else {
        Err(RuleError::new("even", "must be even").with_param("actual", *n))
    }
}

fn dates_ordered(p: &Period) -> Result<(), RuleError> {
    if p.start <= p.end {
        Ok(())
    } else {
        Err(RuleError::new("order", "start is after end").at("start"))
    }
}

#[derive(Validate)]
#[validate(schema = dates_ordered)]
struct Period {
    #[validate(custom = even)]
    start: u32,
    end: u32,
}

#[test]
fn custom_and_schema_functions() {
    assert!(Period { start: 2, end: 4 }.validate().is_valid);
    let r = Period { start: 7, end: 4 }.validate();
    assert_eq!(codes(&r), pairs(&[("start", "even"), ("start", "order")]));
    assert_eq!(r.errors[0].params["actual"], json!(7));
}

#[derive(Validate)]
struct RegisteredOnce {
    #[validate(length(min = 1), pattern = "x")]
    a: String,
}

#[test]
fn derived_types_register_their_rule_set_and_report() {
    let r = RegisteredOnce { a: "x".into() }.validate();
    assert!(r.is_valid);
    let set = coord::rules().get("RegisteredOnce").expect("registered");
    let text = set.to_string();
    assert!(text.contains("length min=1"), "{text}");
    assert!(text.contains("pattern \"x\""), "{text}");
    let _ = RegisteredOnce { a: String::new() }.validate();
    let report = coord::validator().validation_report();
    let entry = report.rule_set("RegisteredOnce").expect("in report");
    assert!(entry.total >= 2 && entry.invalid >= 1);
    // The derived rule set, applied to JSON, reports the same failure.
    let r = set.validate_value(&json!({"a": ""}));
    assert_eq!(codes(&r), pairs(&[("a", "length"), ("a", "pattern")]));
    let schema = set.to_json_schema();
    assert_eq!(schema["properties"]["a"]["minLength"], json!(1));
}

#[derive(Validate, Serialize)]
struct Team {
    #[validate(length(min = 1))]
    name: String,
    #[validate(nested)]
    members: Vec<Member>,
    #[validate(nested)]
    lead: Option<Member>,
}

#[derive(Validate, Serialize)]
struct Member {
    #[validate(email)]
    email: String,
    /// Recursive: registration must stop.
    #[validate(nested)]
    mentees: Vec<Member>,
}

#[test]
fn nested_types_register_with_the_outer_type() {
    let team = Team {
        name: "core".into(),
        members: vec![Member {
            email: "bad".into(),
            mentees: vec![Member {
                email: "also-bad".into(),
                mentees: vec![],
            }],
        }],
        lead: None,
    };
    let r = team.validate();
    assert_eq!(
        codes(&r),
        pairs(&[
            ("members[0].email", "email"),
            ("members[0].mentees[0].email", "email")
        ])
    );
    assert!(
        coord::rules().get("Member").is_some(),
        "nested type registered"
    );
    let team_set = coord::rules().get("Team").unwrap();
    let text = team_set.to_string();
    assert!(text.contains("members: each(nested Member)"), "{text}");
    assert!(text.contains("lead: nested Member"), "{text}");
    let schema = team_set.to_json_schema();
    assert_eq!(
        schema["properties"]["members"]["items"]["$ref"],
        json!("#/$defs/Member")
    );
    assert_eq!(
        schema["$defs"]["Member"]["properties"]["email"]["format"],
        json!("email")
    );
    // The registered rule sets validate the serialized value the same way.
    let via_rules = coord::validator().validate_with(&team_set, &team);
    assert_eq!(codes(&via_rules), codes(&r));
}

/// A hand-written `Validate` that implements only `validate`, nested in a derived type.
struct EvenNumber(u32);

impl coord::Validate for EvenNumber {
    fn validate(&self) -> coord::ValidationResult {
        let mut checks = coord::validate::Checks::new();
        checks.check(self.0.is_multiple_of(2), || {
            coord::FieldError::new("", "even", "must be even")
        });
        checks.finish()
    }
}

#[derive(coord::Validate)]
struct Ticket {
    #[validate(nested)]
    seat: EvenNumber,
}

#[test]
fn hand_written_validate_nests_below_its_field() {
    assert!(EvenNumber(2).validate().is_valid);
    let result = Ticket {
        seat: EvenNumber(3),
    }
    .validate();
    assert!(!result.is_valid);
    assert_eq!(result.errors[0].path, "seat");
    assert_eq!(result.errors[0].rule, "even");
    assert!(
        Ticket {
            seat: EvenNumber(4)
        }
        .validate()
        .is_valid
    );
}
