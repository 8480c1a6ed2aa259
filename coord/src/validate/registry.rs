//! The process-wide rule registry behind [`crate::rules()`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, RwLock};

use serde_json::json;

use super::rule::{FieldRules, Rule, RuleKind, RuleSet, ValueType};
use super::yaml::{self, RuleLoadError};

/// Named rule sets: the built-in `message` set, YAML rule sets and derived types (registered
/// under their type name the first time they are validated).
#[derive(Debug)]
pub struct RuleRegistry {
    sets: RwLock<BTreeMap<String, Arc<RuleSet>>>,
}

static REGISTRY: LazyLock<RuleRegistry> = LazyLock::new(|| {
    let mut sets = BTreeMap::new();
    let message = Arc::new(message_rule_set());
    sets.insert(message.name.clone(), message);
    RuleRegistry {
        sets: RwLock::new(sets),
    }
});

/// The process-wide rule registry (the door is `crate::rules()`).
pub(crate) fn rules() -> &'static RuleRegistry {
    &REGISTRY
}

/// The guide's message structure: `content` a non-empty string, `user_id` a required string,
/// `timestamp` an RFC 3339 date-time, `priority` one of low/normal/high/critical (default normal).
pub fn message_rule_set() -> RuleSet {
    RuleSet::new("message")
        .field(
            FieldRules::new("content")
                .rule(Rule::new(RuleKind::Required))
                .rule(Rule::new(RuleKind::Type(ValueType::String)))
                .rule(Rule::new(RuleKind::Length {
                    min: Some(1),
                    max: None,
                    equal: None,
                })),
        )
        .field(
            FieldRules::new("user_id")
                .rule(Rule::new(RuleKind::Required))
                .rule(Rule::new(RuleKind::Type(ValueType::String))),
        )
        .field(FieldRules::new("timestamp").rule(Rule::new(RuleKind::Type(ValueType::DateTime))))
        .field(
            FieldRules::new("priority")
                .rule(Rule::new(RuleKind::OneOf(vec![
                    json!("low"),
                    json!("normal"),
                    json!("high"),
                    json!("critical"),
                ])))
                .default_value(json!("normal")),
        )
}

impl RuleRegistry {
    /// Loads every rule set of a YAML document (a mapping from rule-set name to
    /// `{required_fields, field_validations, coercion}`), replacing sets of the same name.
    /// Returns the loaded names. Nothing is loaded when any set is invalid.
    pub fn load_yaml(&self, yaml: &str) -> Result<Vec<String>, RuleLoadError> {
        let sets = yaml::parse(yaml)?;
        let names = sets.iter().map(|s| s.name.clone()).collect();
        let mut map = crate::locks::write(&self.sets);
        for set in sets {
            map.insert(set.name.clone(), Arc::new(set));
        }
        Ok(names)
    }

    /// Reads `path` and loads it like [`RuleRegistry::load_yaml`]; errors name the file.
    /// Reading stops one byte past [`MAX_RULE_DOCUMENT_BYTES`](super::MAX_RULE_DOCUMENT_BYTES),
    /// so a FIFO or a device such as `/dev/zero` is refused without being read whole.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<Vec<String>, RuleLoadError> {
        let path = path.as_ref();
        let in_file = |error| RuleLoadError::InFile {
            path: path.to_owned(),
            error: Box::new(error),
        };
        let text =
            crate::read::read_capped(path, yaml::MAX_RULE_DOCUMENT_BYTES).map_err(|e| match e {
                crate::read::ReadError::Io(e) => RuleLoadError::Io {
                    path: path.to_owned(),
                    message: e.to_string(),
                },
                crate::read::ReadError::TooLarge { bytes } => in_file(RuleLoadError::TooLarge {
                    bytes: usize::try_from(bytes).unwrap_or(usize::MAX),
                    limit: yaml::MAX_RULE_DOCUMENT_BYTES,
                }),
            })?;
        self.load_yaml(&text).map_err(in_file)
    }

    /// Adds (or replaces) one rule set.
    pub fn insert(&self, set: RuleSet) -> Arc<RuleSet> {
        let set = Arc::new(set);
        crate::locks::write(&self.sets).insert(set.name.clone(), Arc::clone(&set));
        set
    }

    /// Adds `set` unless one of that name exists (derived types never replace a loaded set);
    /// `true` when added.
    pub(crate) fn insert_if_absent(&self, set: RuleSet) -> bool {
        let mut map = crate::locks::write(&self.sets);
        if map.contains_key(&set.name) {
            return false;
        }
        map.insert(set.name.clone(), Arc::new(set));
        true
    }

    /// Names of every rule set, sorted.
    pub fn names(&self) -> Vec<String> {
        crate::locks::read(&self.sets).keys().cloned().collect()
    }

    /// The rule set called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<RuleSet>> {
        crate::locks::read(&self.sets).get(name).cloned()
    }
}
