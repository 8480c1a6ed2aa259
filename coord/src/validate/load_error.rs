//! [`RuleLoadError`]: why a rule document was refused, with the rule set, field and key.

use std::fmt;
use std::path::PathBuf;

use super::rule::ValueType;

/// Why a rule document was refused. `Display` names the place (rule set, field, key) and, for a
/// misspelt name, the closest known one.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleLoadError {
    /// The text is not valid YAML.
    #[error("YAML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The document exceeds [`MAX_RULE_DOCUMENT_BYTES`](super::MAX_RULE_DOCUMENT_BYTES).
    #[error(
        "rule document of {} bytes refused: the limit is {limit} bytes",
        Size { bytes: *.bytes, limit: *.limit }
    )]
    TooLarge {
        /// Document size; for a file that is not a regular file (a FIFO, a device), `limit + 1`:
        /// reading stops there.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The document nests deeper than [`MAX_RULE_DOCUMENT_DEPTH`](super::MAX_RULE_DOCUMENT_DEPTH).
    #[error("rule document refused: nesting deeper than {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// Aliases expand to more nodes than a rule file can need ("billion laughs").
    #[error("rule document refused: YAML aliases expand beyond the repetition limit")]
    AliasExpansion,
    /// A key that is not part of the rule language.
    #[error(
        "{}: unknown key `{key}`{}",
        Place(.rule_set, .field.as_deref()),
        DidYouMean(.suggestion)
    )]
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
    #[error(
        "{}: unknown type `{name}`{}; known types: {}",
        Place(.rule_set, Some(.field)),
        DidYouMean(.suggestion),
        known_types()
    )]
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
    #[error("{}: `{key}` {message}", Place(.rule_set, .field.as_deref()))]
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
    #[error("{}: `{min_key}` is greater than `{max_key}`", Place(.rule_set, Some(.field)))]
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
    #[error(
        "{}{}: `pattern` {limit}",
        Place(.rule_set, Some(.field)),
        AtLineColumn(.location)
    )]
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
    #[error("cannot read {}: {message}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// An error inside a file.
    #[error("{}: {error}", .path.display())]
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

/// Where an error of a rule set lies: "rule set `a`" or "rule set `a`, field `b`".
struct Place<'a>(&'a str, Option<&'a str>);

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule set `{}`", self.0)?;
        if let Some(field) = self.1 {
            write!(f, ", field `{field}`")?;
        }
        Ok(())
    }
}

/// The closest known name, if any: " (did you mean `b`?)".
struct DidYouMean<'a>(&'a Option<String>);

impl fmt::Display for DidYouMean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(s) => write!(f, " (did you mean `{s}`?)"),
            None => Ok(()),
        }
    }
}

/// The place of a pattern in its document, when known: " (line 3, column 5)".
struct AtLineColumn<'a>(&'a Option<(usize, usize)>);

impl fmt::Display for AtLineColumn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((line, column)) => write!(f, " (line {line}, column {column})"),
            None => Ok(()),
        }
    }
}

/// A document's size as [`RuleLoadError::TooLarge`] says it.
struct Size {
    bytes: usize,
    limit: usize,
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A stream (FIFO, device) is read one byte past the limit and no further, so
        // that count means "more than the limit", not the stream's size.
        if self.bytes == self.limit.saturating_add(1) {
            write!(f, "more than {}", self.limit)
        } else {
            write!(f, "{}", self.bytes)
        }
    }
}

/// The names of every [`ValueType`], for an unknown `type`.
fn known_types() -> String {
    let names: Vec<_> = ValueType::ALL.iter().map(|t| t.as_str()).collect();
    names.join(", ")
}
