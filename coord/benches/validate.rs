//! A 5-rule struct (length, email, range, url, collection length), valid and invalid:
//! coord's derive vs `validator` 0.21 and `garde` 0.23; the same rules as a YAML rule set on a
//! `serde_json::Value` vs `jsonschema` on the equivalent schema (`iter_errors` lists every
//! error, as coord does). Baselines run in the same run.
//!
//! Cases: `valid`; `invalid` (all 5 rules fail, including a malformed email and an IPv4-looking
//! URL host out of range); `invalid_bounds` (only the 3 length/range rules fail: the cost of
//! building errors, without format parsing).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use serde_json::{Value, json};

/// coord's and `validator`'s derives read the same attribute syntax: one definition gives both
/// crates the same struct with the same rules, to the letter.
macro_rules! user_with_validate_rules {
    ($user:ident, $derive:path) => {
        #[derive($derive)]
        struct $user {
            #[validate(length(min = 2, max = 50))]
            name: String,
            #[validate(email)]
            email: String,
            #[validate(range(min = 18, max = 120))]
            age: u32,
            #[validate(url)]
            homepage: String,
            #[validate(length(max = 5))]
            tags: Vec<String>,
        }
    };
}

user_with_validate_rules!(CoordUser, coord::Validate);
user_with_validate_rules!(ValidatorUser, validator::Validate);

#[derive(garde::Validate)]
struct GardeUser {
    #[garde(length(chars, min = 2, max = 50))]
    name: String,
    #[garde(email)]
    email: String,
    #[garde(range(min = 18, max = 120))]
    age: u32,
    #[garde(url)]
    homepage: String,
    #[garde(length(max = 5))]
    tags: Vec<String>,
}

struct Fields {
    name: &'static str,
    email: &'static str,
    age: u32,
    homepage: &'static str,
    tags: usize,
}

const VALID: Fields = Fields {
    name: "Ada Lovelace",
    email: "ada.lovelace@example.com",
    age: 36,
    homepage: "https://ada.example.com/about",
    tags: 3,
};

const INVALID: Fields = Fields {
    name: "A",
    email: "ada.lovelace@@example",
    age: 12,
    homepage: "http://999.999.999.999/",
    tags: 8,
};

const INVALID_BOUNDS: Fields = Fields {
    name: "A",
    age: 12,
    tags: 8,
    ..VALID
};

const CASES: [(&str, &Fields); 3] = [
    ("valid", &VALID),
    ("invalid", &INVALID),
    ("invalid_bounds", &INVALID_BOUNDS),
];

fn tags(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("tag{i}")).collect()
}

/// Each crate's user from the same field values.
macro_rules! user_from_fields {
    ($($user:ident),*) => {$(
        impl From<&Fields> for $user {
            fn from(f: &Fields) -> Self {
                $user {
                    name: f.name.into(),
                    email: f.email.into(),
                    age: f.age,
                    homepage: f.homepage.into(),
                    tags: tags(f.tags),
                }
            }
        }
    )*};
}

user_from_fields!(CoordUser, ValidatorUser, GardeUser);

fn json_user(f: &Fields) -> Value {
    json!({
        "name": f.name, "email": f.email, "age": f.age,
        "homepage": f.homepage, "tags": tags(f.tags),
    })
}

const RULES: &str = r#"
bench_user:
  field_validations:
    name: {type: string, min_length: 2, max_length: 50}
    email: {type: email}
    age: {type: integer, min: 18, max: 120}
    homepage: {type: url}
    tags: {type: array, max_length: 5}
"#;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 2, "maxLength": 50},
            "email": {"type": "string", "format": "email"},
            "age": {"type": "integer", "minimum": 18, "maximum": 120},
            "homepage": {"type": "string", "format": "uri"},
            "tags": {"type": "array", "maxItems": 5}
        }
    })
}

fn derive(c: &mut Criterion) {
    use coord::Validate as _;
    use garde::Validate as _;
    use validator::Validate as _;
    for (label, f) in CASES {
        let (cu, vu, gu) = (
            CoordUser::from(f),
            ValidatorUser::from(f),
            GardeUser::from(f),
        );
        let expect_valid = label == "valid";
        assert_eq!(cu.validate().is_valid, expect_valid);
        assert_eq!(vu.validate().is_ok(), expect_valid);
        assert_eq!(gu.validate().is_ok(), expect_valid);
        let mut g = c.benchmark_group(format!("derive/{label}"));
        g.bench_function("coord", |b| b.iter(|| black_box(&cu).validate()));
        // The same checks without recording into the process-wide report.
        g.bench_function("coord_unrecorded", |b| {
            b.iter(|| {
                let mut checks = coord::validate::Checks::new();
                black_box(&cu).validate_into(&coord::validate::FieldPath::Root, &mut checks);
                checks.finish()
            })
        });
        g.bench_function("validator", |b| b.iter(|| black_box(&vu).validate()));
        g.bench_function("garde", |b| b.iter(|| black_box(&gu).validate()));
        g.finish();
    }
}

fn rule_sets(c: &mut Criterion) {
    coord::rules().load_yaml(RULES).expect("bench rules load");
    let set = coord::rules().get("bench_user").expect("loaded");
    let compiled = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("schema compiles");
    for (label, f) in CASES {
        let v = json_user(f);
        let expect_valid = label == "valid";
        assert_eq!(set.validate_value(&v).is_valid, expect_valid);
        assert_eq!(compiled.is_valid(&v), expect_valid);
        let mut g = c.benchmark_group(format!("rule_set/{label}"));
        g.bench_function("coord_yaml", |b| {
            b.iter(|| set.validate_value(black_box(&v)))
        });
        g.bench_function("jsonschema_is_valid", |b| {
            b.iter(|| compiled.is_valid(black_box(&v)))
        });
        g.bench_function("jsonschema_iter_errors", |b| {
            b.iter(|| compiled.iter_errors(black_box(&v)).count())
        });
        g.finish();
    }
}

criterion_group!(benches, derive, rule_sets);
criterion_main!(benches);
