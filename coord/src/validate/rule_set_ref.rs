//! [`AsRuleSet`]: a rule set given by value or by name to
//! [`Validator::validate_with`](super::Validator::validate_with).

use std::sync::Arc;

use super::registry::rules;
use super::rule::RuleSet;

/// What [`Validator::validate_with`](super::Validator::validate_with) accepts as a rule set: a [`RuleSet`] (also behind `Arc`),
/// or the name of one loaded in [`rules()`](crate::rules).
pub trait AsRuleSet {
    /// The rule set, or `None` for a name that is not loaded.
    fn as_rule_set(&self) -> Option<RuleSetRef<'_>>;
    /// The name, for the report and the error.
    fn rule_set_name(&self) -> &str;
}

/// A rule set borrowed from the caller or shared from the registry.
#[derive(Debug)]
pub enum RuleSetRef<'a> {
    /// The caller's own.
    Borrowed(&'a RuleSet),
    /// From the registry.
    Shared(Arc<RuleSet>),
}

impl std::ops::Deref for RuleSetRef<'_> {
    type Target = RuleSet;
    fn deref(&self) -> &RuleSet {
        match self {
            RuleSetRef::Borrowed(set) => set,
            RuleSetRef::Shared(set) => set,
        }
    }
}

impl AsRuleSet for RuleSet {
    fn as_rule_set(&self) -> Option<RuleSetRef<'_>> {
        Some(RuleSetRef::Borrowed(self))
    }
    fn rule_set_name(&self) -> &str {
        &self.name
    }
}

impl AsRuleSet for Arc<RuleSet> {
    fn as_rule_set(&self) -> Option<RuleSetRef<'_>> {
        Some(RuleSetRef::Borrowed(self))
    }
    fn rule_set_name(&self) -> &str {
        &self.name
    }
}

impl AsRuleSet for str {
    fn as_rule_set(&self) -> Option<RuleSetRef<'_>> {
        rules().get(self).map(RuleSetRef::Shared)
    }
    fn rule_set_name(&self) -> &str {
        self
    }
}

impl AsRuleSet for String {
    fn as_rule_set(&self) -> Option<RuleSetRef<'_>> {
        self.as_str().as_rule_set()
    }
    fn rule_set_name(&self) -> &str {
        self
    }
}
