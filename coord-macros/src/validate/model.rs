//! The checked model: what `check` produces and `expand` consumes. Only literals that passed
//! every check are in it, so code generation cannot fail.

use syn::{Generics, Ident, Path, Type};

use super::ast::Style;

pub(crate) struct Checked<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a Generics,
    pub(crate) shape: CShape<'a>,
    pub(crate) schemas: Vec<Path>,
    /// Targets of `nested`, and whether each names a generic parameter (then it needs a
    /// `Validate` bound on the impl).
    pub(crate) nested: Vec<(Type, bool)>,
}

pub(crate) enum CShape<'a> {
    Struct(CFields<'a>),
    Enum(Vec<(&'a Ident, CFields<'a>)>),
}

pub(crate) struct CFields<'a> {
    pub(crate) style: Style,
    pub(crate) fields: Vec<CField<'a>>,
}

/// How a field extends the parent's path.
pub(crate) enum Segment {
    Name(String),
    Index(usize),
    /// A newtype's only field: the parent's path (serde serializes it transparently).
    Same,
}

pub(crate) struct CField<'a> {
    pub(crate) binding: Ident,
    pub(crate) ident: Option<&'a Ident>,
    pub(crate) index: usize,
    pub(crate) segment: Segment,
    pub(crate) data_name: String,
    pub(crate) optional: bool,
    pub(crate) rules: Vec<CRule>,
}

pub(crate) enum CRule {
    Required {
        msg: Option<String>,
    },
    Format {
        variant: &'static str,
        msg: Option<String>,
    },
    Length {
        min: Option<u64>,
        max: Option<u64>,
        equal: Option<u64>,
        msg: Option<String>,
    },
    Range {
        min: Option<f64>,
        max: Option<f64>,
        msg: Option<String>,
    },
    Pattern {
        source: String,
        msg: Option<String>,
    },
    OneOfStr {
        values: Vec<String>,
        msg: Option<String>,
    },
    OneOfNum {
        values: Vec<f64>,
        msg: Option<String>,
    },
    Nested {
        type_name: String,
        /// Collection levels around the nested type.
        depth: usize,
        /// The field's (or item's) type, `Option` removed.
        ty: Box<Type>,
    },
    Each {
        item_optional: bool,
        rules: Vec<CRule>,
    },
    Custom {
        path: Path,
        msg: Option<String>,
    },
    MustMatch {
        other_binding: Ident,
        other: String,
        msg: Option<String>,
    },
}

impl CRule {
    /// The rule's own `message = "..."`, if it takes one.
    pub(crate) fn msg(&self) -> &Option<String> {
        match self {
            CRule::Required { msg }
            | CRule::Format { msg, .. }
            | CRule::Length { msg, .. }
            | CRule::Range { msg, .. }
            | CRule::Pattern { msg, .. }
            | CRule::OneOfStr { msg, .. }
            | CRule::OneOfNum { msg, .. }
            | CRule::Custom { msg, .. }
            | CRule::MustMatch { msg, .. } => msg,
            CRule::Nested { .. } | CRule::Each { .. } => &None,
        }
    }
}
