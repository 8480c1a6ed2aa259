//! [`RuleLoadError`]: why a rule document was refused, with the rule set, field and key.

use std::fmt;
use std::path::PathBuf;

use super::rule::ValueType;

/// Why a rule document was refused. `Display` names the place (rule set, field, key) and, for a
/// misspelt name, the closest known one.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RuleLoadError {
    /// The text is not valid YAML.
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The document exceeds [`MAX_RULE_DOCUMENT_BYTES`](super::MAX_RULE_DOCUMENT_BYTES).
    TooLarge {
        /// Document size; for a file that is not a regular file (a FIFO, a device), `limit + 1`:
        /// reading stops there.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The document nests deeper than [`MAX_RULE_DOCUMENT_DEPTH`](super::MAX_RULE_DOCUMENT_DEPTH).
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// Aliases expand to more nodes than a rule file can need ("billion laughs").
    AliasExpansion,
    /// A key that is not part of the rule language.
    UnknownKey {
        /// The rule set.
        rule_set: String,
        /// The field (`None` at rule-set level); nested places are joined with `.`.
        field: Option<String>,
        /// The unknown key.
        key: String,
        /// The closest known key.
        suggestion: Option<String>,
    },
    /// A `type` that is not one of the known types.
    UnknownType {
        /// The rule set.
        rule_set: String,
        /// The field.
        field: String,
        /// The unknown type name.
        name: String,
        /// The closest known type.
        suggestion: Option<String>,
    },
    /// A key whose value has the wrong shape (`min_length: -1`, `pattern: "("`, ...).
    InvalidValue {
        /// The rule set (empty at document level).
        rule_set: String,
        /// The field.
        field: Option<String>,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A lower bound above its upper bound.
    MinAboveMax {
        /// The rule set.
        rule_set: String,
        /// The field.
        field: String,
        /// `min` or `min_length`.
        min_key: &'static str,
        /// `max` or `max_length`.
        max_key: &'static str,
    },
    /// A `pattern` past one of the limits that bound a rule document's regexes as a whole
    /// ([`PatternLimit`]); nothing of the document is loaded.
    PatternTooLarge {
        /// The rule set.
        rule_set: String,
        /// The field; nested places are joined with `.`.
        field: String,
        /// 1-based line and column of the pattern in the document, when known (`None` for the
        /// `rules` section of a configuration file, whose error carries the file).
        location: Option<(usize, usize)>,
        /// The limit it broke.
        limit: PatternLimit,
    },
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// An error inside a file.
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        error: Box<RuleLoadError>,
    },
}

/// Which bound of a rule document's regexes a `pattern` broke, with the bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternLimit {
    /// The pattern alone compiles to more than
    /// [`MAX_PATTERN_BYTES`](super::MAX_PATTERN_BYTES).
    Pattern {
        /// The limit, in bytes.
        limit: usize,
    },
    /// With this pattern, the document's patterns together compile to more than
    /// [`MAX_DOCUMENT_PATTERN_BYTES`](super::MAX_DOCUMENT_PATTERN_BYTES).
    Document {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The document holds more than [`MAX_DOCUMENT_PATTERNS`](super::MAX_DOCUMENT_PATTERNS)
    /// patterns; this is the first one past the count.
    Count {
        /// The limit, in patterns.
        limit: usize,
    },
}

impl fmt::Display for PatternLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternLimit::Pattern { limit } => write!(
                f,
                "compiles to more than {limit} bytes, the limit for one pattern of a rule document"
            ),
            PatternLimit::Document { limit } => write!(
                f,
                "takes the document's compiled patterns past {limit} bytes, the limit for one rule document"
            ),
            PatternLimit::Count { limit } => write!(
                f,
                "is one pattern too many: a rule document holds at most {limit} patterns"
            ),
        }
    }
}

fn place(f: &mut fmt::Formatter<'_>, rule_set: &str, field: Option<&str>) -> fmt::Result {
    write!(f, "rule set `{rule_set}`")?;
    if let Some(field) = field {
        write!(f, ", field `{field}`")?;
    }
    Ok(())
}

impl fmt::Display for RuleLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleLoadError::Syntax {
                line,
                column,
                message,
            } => write!(
                f,
                "YAML syntax error at line {line}, column {column}: {message}"
            ),
            // A stream (FIFO, device) is read one byte past the limit and no further, so
            // that count means "more than the limit", not the stream's size.
            RuleLoadError::TooLarge { bytes, limit } if *bytes == limit.saturating_add(1) => {
                write!(
                    f,
                    "rule document of more than {limit} bytes refused: the limit is {limit} bytes"
                )
            }
            RuleLoadError::TooLarge { bytes, limit } => write!(
                f,
                "rule document of {bytes} bytes refused: the limit is {limit} bytes"
            ),
            RuleLoadError::TooDeep { limit } => {
                write!(
                    f,
                    "rule document refused: nesting deeper than {limit} levels"
                )
            }
            RuleLoadError::AliasExpansion => f.write_str(
                "rule document refused: YAML aliases expand beyond the repetition limit",
            ),
            RuleLoadError::UnknownKey {
                rule_set,
                field,
                key,
                suggestion,
            } => {
                place(f, rule_set, field.as_deref())?;
                write!(f, ": unknown key `{key}`")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean `{s}`?)")?;
                }
                Ok(())
            }
            RuleLoadError::UnknownType {
                rule_set,
                field,
                name,
                suggestion,
            } => {
                place(f, rule_set, Some(field))?;
                write!(f, ": unknown type `{name}`")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean `{s}`?)")?;
                }
                let names: Vec<_> = ValueType::ALL.iter().map(|t| t.as_str()).collect();
                write!(f, "; known types: {}", names.join(", "))
            }
            RuleLoadError::InvalidValue {
                rule_set,
                field,
                key,
                message,
            } => {
                place(f, rule_set, field.as_deref())?;
                write!(f, ": `{key}` {message}")
            }
            RuleLoadError::MinAboveMax {
                rule_set,
                field,
                min_key,
                max_key,
            } => {
                place(f, rule_set, Some(field))?;
                write!(f, ": `{min_key}` is greater than `{max_key}`")
            }
            RuleLoadError::PatternTooLarge {
                rule_set,
                field,
                location,
                limit,
            } => {
                place(f, rule_set, Some(field))?;
                if let Some((line, column)) = location {
                    write!(f, " (line {line}, column {column})")?;
                }
                write!(f, ": `pattern` {limit}")
            }
            RuleLoadError::Io { path, message } => {
                write!(f, "cannot read {}: {message}", path.display())
            }
            RuleLoadError::InFile { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for RuleLoadError {}
