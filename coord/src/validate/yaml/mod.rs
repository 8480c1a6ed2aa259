//! YAML rule files. The only module that knows the YAML crate (`serde_norway`, the maintained
//! continuation of `serde_yaml`).

use std::sync::Arc;

use serde_norway::Value as Yaml;

pub use super::load_error::{PatternLimit, RuleLoadError};
use super::locate::locate;
use super::rule::{Coercion, FieldRules, NestedRules, Pattern, Rule, RuleKind, RuleSet, ValueType};
use crate::naming::closest;
use read::{At, bounds_in_order, count, kind, mapping, number, str_key, to_json};

mod read;

/// Largest rule document accepted, in bytes.
pub const MAX_RULE_DOCUMENT_BYTES: usize = 1 << 20;
/// Deepest nesting of mappings and sequences accepted in a rule document.
pub const MAX_RULE_DOCUMENT_DEPTH: usize = 32;
/// Largest compiled size of one `pattern` of a rule document, in bytes (the `regex` crate's
/// `size_limit`; its default, kept for patterns written in code, is 10 MiB). Ordinary patterns
/// take a few kilobytes; `\w{20}` takes about 1.1 MB, because `\w` is every Unicode word
/// character.
pub const MAX_PATTERN_BYTES: usize = 2 << 20;
/// Largest lazy DFA cache of one `pattern` of a rule document, in bytes (the `regex` crate's
/// `dfa_size_limit`, default 2 MiB): filled while matching, one per thread matching at once.
/// A pattern too large for it is matched by the slower engines, still in linear time.
pub const MAX_PATTERN_DFA_BYTES: usize = 512 << 10;
/// Largest compiled size of all the patterns of one rule document together, in bytes.
pub const MAX_DOCUMENT_PATTERN_BYTES: usize = 16 << 20;
/// Most `pattern` rules one rule document may hold.
pub const MAX_DOCUMENT_PATTERNS: usize = 1_000;

const RULE_SET_KEYS: &[&str] = &["required_fields", "field_validations", "coercion"];
const FIELD_KEYS: &[&str] = &[
    "type",
    "required",
    "min",
    "max",
    "min_length",
    "max_length",
    "equal",
    "pattern",
    "one_of",
    "each",
    "nested",
    "must_match",
    "message",
    "messages",
    "default",
];
const MESSAGE_KEYS: &[&str] = &[
    "type",
    "email",
    "url",
    "uuid",
    "datetime",
    "required",
    "range",
    "min",
    "max",
    "length",
    "min_length",
    "max_length",
    "equal",
    "pattern",
    "one_of",
    "must_match",
    "nested",
];

/// Parses a rule document: a mapping from rule-set name to rule set.
pub(crate) fn parse(src: &str) -> Result<Vec<RuleSet>, RuleLoadError> {
    if src.len() > MAX_RULE_DOCUMENT_BYTES {
        return Err(RuleLoadError::TooLarge {
            bytes: src.len(),
            limit: MAX_RULE_DOCUMENT_BYTES,
        });
    }
    let doc: Yaml = serde_norway::from_str(src).map_err(|e| {
        let message = e.to_string();
        if message.contains("repetition limit exceeded") {
            RuleLoadError::AliasExpansion
        } else if message.contains("recursion limit exceeded") {
            RuleLoadError::TooDeep {
                limit: MAX_RULE_DOCUMENT_DEPTH,
            }
        } else {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            RuleLoadError::Syntax {
                line,
                column,
                message,
            }
        }
    })?;
    parse_located(doc, Some(src))
}

/// Turns an already parsed YAML document (a mapping from rule-set name to rule set) into rule
/// sets; the configuration file hands its `rules` section here.
pub(crate) fn parse_document(doc: Yaml) -> Result<Vec<RuleSet>, RuleLoadError> {
    parse_located(doc, None)
}

/// [`parse_document`], with the source text when there is one, to locate refusals in it.
fn parse_located(doc: Yaml, src: Option<&str>) -> Result<Vec<RuleSet>, RuleLoadError> {
    if depth(&doc, 0) > MAX_RULE_DOCUMENT_DEPTH {
        return Err(RuleLoadError::TooDeep {
            limit: MAX_RULE_DOCUMENT_DEPTH,
        });
    }
    let top = match doc {
        Yaml::Null => return Ok(Vec::new()),
        Yaml::Mapping(m) => m,
        other => {
            return Err(RuleLoadError::InvalidValue {
                rule_set: String::new(),
                field: None,
                key: "(document)".into(),
                message: format!(
                    "must be a mapping from rule-set name to rule set, found {}",
                    kind(&other)
                ),
            });
        }
    };
    let mut cx = Doc {
        src,
        patterns: 0,
        pattern_bytes: 0,
    };
    let mut sets = Vec::new();
    for (name, body) in &top {
        let Some(name) = name.as_str() else {
            return Err(RuleLoadError::InvalidValue {
                rule_set: String::new(),
                field: None,
                key: "(document)".into(),
                message: format!("has a non-string rule-set name ({})", kind(name)),
            });
        };
        sets.push(rule_set(name, name, None, body, &mut cx, &[name])?);
    }
    Ok(sets)
}

fn depth(v: &Yaml, d: usize) -> usize {
    if d > MAX_RULE_DOCUMENT_DEPTH {
        return d;
    }
    match v {
        Yaml::Sequence(s) => s.iter().map(|x| depth(x, d + 1)).max().unwrap_or(d + 1),
        Yaml::Mapping(m) => m.values().map(|x| depth(x, d + 1)).max().unwrap_or(d + 1),
        Yaml::Tagged(t) => depth(&t.value, d + 1),
        _ => d,
    }
}

/// What parsing one document carries along: its source, to locate refusals, and what its
/// patterns have used of the document's budget.
struct Doc<'s> {
    src: Option<&'s str>,
    patterns: usize,
    pattern_bytes: usize,
}

impl Doc<'_> {
    /// Compiles the `pattern` at `path` (its keys from the document's root) within what is
    /// left of the document's budget.
    fn pattern(
        &mut self,
        source: &str,
        at: &At<'_>,
        path: &[&str],
    ) -> Result<Pattern, RuleLoadError> {
        let too_large = |limit| RuleLoadError::PatternTooLarge {
            rule_set: at.set.to_owned(),
            field: at.field.unwrap_or_default().to_owned(),
            location: self.src.and_then(|src| locate(src, path)),
            limit,
        };
        if self.patterns >= MAX_DOCUMENT_PATTERNS {
            return Err(too_large(PatternLimit::Count {
                limit: MAX_DOCUMENT_PATTERNS,
            }));
        }
        let left = MAX_DOCUMENT_PATTERN_BYTES.saturating_sub(self.pattern_bytes);
        let document = PatternLimit::Document {
            limit: MAX_DOCUMENT_PATTERN_BYTES,
        };
        // Compiling under what is left stops a pattern that cannot fit as soon as it is known,
        // instead of after building it whole.
        let size_limit = MAX_PATTERN_BYTES.min(left);
        match Pattern::with_limits(source, size_limit, MAX_PATTERN_DFA_BYTES) {
            Ok(p) if p.memory_usage() > left => Err(too_large(document)),
            Ok(p) => {
                self.patterns += 1;
                self.pattern_bytes += p.memory_usage();
                Ok(p)
            }
            Err(regex::Error::CompiledTooBig(_)) => {
                Err(too_large(if size_limit < MAX_PATTERN_BYTES {
                    document
                } else {
                    PatternLimit::Pattern {
                        limit: MAX_PATTERN_BYTES,
                    }
                }))
            }
            Err(e) => Err(at.invalid("pattern", format!("is not a valid regex: {e}"))),
        }
    }
}

/// `path` and then `keys`.
fn joined<'a>(path: &[&'a str], keys: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(path.len() + keys.len());
    out.extend_from_slice(path);
    out.extend_from_slice(keys);
    out
}

/// `set` is the top-level rule set's name (for errors); `prefix` the dotted place of an inline
/// nested rule set inside it; `path` the keys from the document's root to `body`.
fn rule_set<'y>(
    name: &str,
    set: &str,
    prefix: Option<&str>,
    body: &'y Yaml,
    cx: &mut Doc<'_>,
    path: &[&'y str],
) -> Result<RuleSet, RuleLoadError> {
    let at = At { set, field: prefix };
    let body = mapping(body, &at, "(rule set)")?;
    let mut out = RuleSet::new(name);
    let mut required: Vec<String> = Vec::new();
    for (k, v) in body {
        let key = str_key(k, &at)?;
        match key {
            "required_fields" => {
                let seq = v.as_sequence().ok_or_else(|| {
                    at.invalid(
                        key,
                        format!("must be a list of field names, found {}", kind(v)),
                    )
                })?;
                for item in seq {
                    let f = item.as_str().ok_or_else(|| {
                        at.invalid(key, format!("must list field names, found {}", kind(item)))
                    })?;
                    required.push(f.to_owned());
                }
            }
            "field_validations" => {
                for (fk, fv) in mapping(v, &at, key)? {
                    let fname = str_key(fk, &at)?;
                    let place = match prefix {
                        Some(p) => format!("{p}.{fname}"),
                        None => fname.to_owned(),
                    };
                    let path = joined(path, &["field_validations", fname]);
                    out.fields
                        .push(field_rules(fname, set, &place, fv, cx, &path)?);
                }
            }
            "coercion" => {
                out.coercion = match v.as_str() {
                    Some("strict") => Coercion::Strict,
                    Some("lax") => Coercion::Lax,
                    _ => return Err(at.invalid(key, "must be `strict` or `lax`")),
                };
            }
            other => return Err(at.unknown(other, RULE_SET_KEYS)),
        }
    }
    // Listed-only fields come first, in list order; listed fields with rules keep their place.
    let mut listed_only = Vec::new();
    for name in required {
        match out.fields.iter_mut().find(|f| f.name == name) {
            Some(field) => {
                if !field.is_required() {
                    field.rules.insert(0, Rule::new(RuleKind::Required));
                }
            }
            None => {
                if !listed_only.iter().any(|f: &FieldRules| f.name == name) {
                    listed_only.push(FieldRules::new(name).rule(Rule::new(RuleKind::Required)));
                }
            }
        }
    }
    listed_only.append(&mut out.fields);
    out.fields = listed_only;
    Ok(out)
}

fn field_rules<'y>(
    name: &str,
    set: &str,
    place: &str,
    body: &'y Yaml,
    cx: &mut Doc<'_>,
    path: &[&'y str],
) -> Result<FieldRules, RuleLoadError> {
    let at = At {
        set,
        field: Some(place),
    };
    let body = mapping(body, &at, "(field)")?;
    let mut field = FieldRules::new(name);
    let mut ty = None;
    let (mut min, mut max) = (None, None);
    let (mut min_len, mut max_len, mut equal) = (None, None, None);
    let mut others: Vec<Rule> = Vec::new();
    let mut required = false;
    let mut message: Option<String> = None;
    let mut messages: Vec<(String, String)> = Vec::new();
    for (k, v) in body {
        let key = str_key(k, &at)?;
        match key {
            "type" => {
                let n = v.as_str().ok_or_else(|| {
                    at.invalid(key, format!("must be a type name, found {}", kind(v)))
                })?;
                ty = Some(
                    ValueType::from_name(n).ok_or_else(|| RuleLoadError::UnknownType {
                        rule_set: set.to_owned(),
                        field: place.to_owned(),
                        name: n.to_owned(),
                        suggestion: closest(n, ValueType::ALL.iter().map(|t| t.as_str())),
                    })?,
                );
            }
            "required" => {
                required = v.as_bool().ok_or_else(|| {
                    at.invalid(key, format!("must be true or false, found {}", kind(v)))
                })?;
            }
            "min" => min = Some(number(v, &at, key)?),
            "max" => max = Some(number(v, &at, key)?),
            "min_length" => min_len = Some(count(v, &at, key)?),
            "max_length" => max_len = Some(count(v, &at, key)?),
            "equal" => equal = Some(count(v, &at, key)?),
            "pattern" => {
                let src = v.as_str().ok_or_else(|| {
                    at.invalid(key, format!("must be a string, found {}", kind(v)))
                })?;
                let p = cx.pattern(src, &at, &joined(path, &[key]))?;
                others.push(Rule::new(RuleKind::Pattern(p)));
            }
            "one_of" => {
                let seq = v
                    .as_sequence()
                    .ok_or_else(|| at.invalid(key, format!("must be a list, found {}", kind(v))))?;
                let mut values = Vec::with_capacity(seq.len());
                for item in seq {
                    values.push(to_json(item, &at, key)?);
                }
                others.push(Rule::new(RuleKind::OneOf(values)));
            }
            "each" => {
                let item = field_rules(
                    name,
                    set,
                    &format!("{place}.each"),
                    v,
                    cx,
                    &joined(path, &["each"]),
                )?;
                others.push(Rule::new(RuleKind::Each(item.rules)));
            }
            "nested" => {
                let nested = match v {
                    Yaml::String(n) => NestedRules::Named(n.clone()),
                    Yaml::Mapping(_) => {
                        let path = joined(path, &["nested"]);
                        NestedRules::Inline(Arc::new(rule_set(
                            name,
                            set,
                            Some(place),
                            v,
                            cx,
                            &path,
                        )?))
                    }
                    other => {
                        return Err(at.invalid(
                            key,
                            format!(
                                "must name a rule set or hold one inline, found {}",
                                kind(other)
                            ),
                        ));
                    }
                };
                others.push(Rule::new(RuleKind::Nested(nested)));
            }
            "must_match" => {
                let other = v.as_str().ok_or_else(|| {
                    at.invalid(key, format!("must name a field, found {}", kind(v)))
                })?;
                others.push(Rule::new(RuleKind::MustMatch(other.to_owned())));
            }
            "message" => {
                message = Some(
                    v.as_str()
                        .ok_or_else(|| {
                            at.invalid(key, format!("must be a string, found {}", kind(v)))
                        })?
                        .to_owned(),
                );
            }
            "messages" => {
                for (mk, mv) in mapping(v, &at, key)? {
                    let mk = str_key(mk, &at)?;
                    if !MESSAGE_KEYS.contains(&mk) {
                        return Err(at
                            .unknown(&format!("messages.{mk}"), MESSAGE_KEYS)
                            .with_suggestion_prefix("messages."));
                    }
                    let text = mv.as_str().ok_or_else(|| {
                        at.invalid(key, format!("values must be strings, found {}", kind(mv)))
                    })?;
                    messages.push((message_code(mk).to_owned(), text.to_owned()));
                }
            }
            "default" => field.default = Some(to_json(v, &at, key)?),
            other => return Err(at.unknown(other, FIELD_KEYS)),
        }
    }
    bounds_in_order(min, max, ["min", "max"], set, place)?;
    bounds_in_order(min_len, max_len, ["min_length", "max_length"], set, place)?;
    let mut rules = Vec::new();
    if required {
        rules.push(Rule::new(RuleKind::Required));
    }
    if let Some(t) = ty {
        rules.push(Rule::new(RuleKind::Type(t)));
    }
    if min.is_some() || max.is_some() {
        rules.push(Rule::new(RuleKind::Range { min, max }));
    }
    if min_len.is_some() || max_len.is_some() || equal.is_some() {
        rules.push(Rule::new(RuleKind::Length {
            min: min_len,
            max: max_len,
            equal,
        }));
    }
    rules.extend(others);
    for rule in &mut rules {
        let code = rule.code();
        rule.message = messages
            .iter()
            .rev()
            .find(|(c, _)| c == code || (c == "type" && matches!(rule.kind, RuleKind::Type(_))))
            .map(|(_, m)| m.clone())
            .or_else(|| message.clone());
    }
    field.rules = rules;
    Ok(field)
}

impl RuleLoadError {
    fn with_suggestion_prefix(mut self, prefix: &str) -> Self {
        if let RuleLoadError::UnknownKey {
            key, suggestion, ..
        } = &mut self
        {
            let bare = key.trim_start_matches(prefix).to_owned();
            *suggestion =
                closest(&bare, MESSAGE_KEYS.iter().copied()).map(|s| format!("{prefix}{s}"));
        }
        self
    }
}

fn message_code(key: &str) -> &str {
    match key {
        "min" | "max" => "range",
        "min_length" | "max_length" | "equal" => "length",
        other => other,
    }
}
