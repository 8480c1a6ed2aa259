//! The guide's "Validation Rule Customization": load the `user_profile` rules at run time, list
//! them, validate with them, and export them as JSON Schema.
//!
//! Run with `cargo run --example custom_rules`.

use serde::Serialize;

/// The guide's rule file, as a service would ship it (`tests/validate_yaml.rs` loads the same).
const CUSTOM_RULES: &str = include_str!("user_profile.yaml");

#[derive(Serialize)]
struct UserProfile {
    name: String,
    email: String,
    age: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let loaded = coord::rules().load_yaml(CUSTOM_RULES)?;
    println!("Loaded rules: {:?}", coord::rules().names());
    assert_eq!(loaded, ["user_profile"]);

    let rules = coord::rules()
        .get("user_profile")
        .ok_or("user_profile not loaded")?;
    println!("\n{rules}\n");

    let ada = UserProfile {
        name: "Ada".into(),
        email: "ada@example.com".into(),
        age: 36,
    };
    let kid = UserProfile {
        name: "K".into(),
        email: "kid-at-example.com".into(),
        age: 12,
    };
    for profile in [&ada, &kid] {
        let result = coord::validator().validate_with(&rules, profile);
        println!("{}: {result}", profile.name);
    }

    // A typo in a rule file names the rule set, the field and the key, and suggests a fix.
    let typo = "user_profile_v2:\n  field_validations:\n    age: {type: integr}\n";
    if let Err(e) = coord::rules().load_yaml(typo) {
        println!("\nRefused: {e}");
    }

    println!(
        "\nAs JSON Schema:\n{}",
        serde_json::to_string_pretty(&rules.to_json_schema())?
    );
    Ok(())
}
