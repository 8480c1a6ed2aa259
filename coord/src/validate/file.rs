//! The rule sets' section of the configuration file: `rules:` holds a document in the rule
//! language of [`RuleRegistry::load_yaml`](super::RuleRegistry::load_yaml).

use super::{RuleLoadError, RuleSet};
use crate::contract::FileSection;

/// The section, for the list in `crate::mechanisms`.
pub(crate) struct RulesFile;

impl FileSection for RulesFile {
    type Model = Option<serde_norway::Value>;
    type Checked = Vec<RuleSet>;
    type Loaded = Vec<String>;
    type Error = RuleLoadError;

    fn check(_key: &str, model: Self::Model) -> Result<Vec<RuleSet>, RuleLoadError> {
        match model {
            None | Some(serde_norway::Value::Null) => Ok(Vec::new()),
            Some(doc) => super::parse_document(doc),
        }
    }

    fn apply(_key: &str, checked: Vec<RuleSet>) -> Result<Vec<String>, RuleLoadError> {
        let mut names = Vec::with_capacity(checked.len());
        for set in checked {
            names.push(set.name.clone());
            super::rules().insert(set);
        }
        Ok(names)
    }
}
