//! What the macro can tell about a field's type from its syntax: the last path segment's
//! identifier and its generic arguments, matched as syn nodes (never as text).

use syn::{GenericArgument, Ident, PathArguments, PathSegment, Type};

/// What a rule may assume about a value; `Other` leaves it to trait bounds.
#[derive(Clone, Copy)]
pub(super) enum TyKind<'a> {
    Str,
    Int,
    Float,
    Bool,
    Seq(Option<&'a Type>),
    Map(Option<&'a Type>),
    Option(&'a Type),
    Other,
}

impl TyKind<'_> {
    pub(super) fn describe(self) -> &'static str {
        match self {
            TyKind::Str => "a string",
            TyKind::Int => "an integer",
            TyKind::Float => "a float",
            TyKind::Bool => "a bool",
            TyKind::Seq(_) => "a sequence",
            TyKind::Map(_) => "a map",
            TyKind::Option(_) => "an Option",
            TyKind::Other => "this type",
        }
    }

    /// Strings, and types the macro cannot see into (their rules check through trait bounds).
    pub(super) fn stringy(self) -> bool {
        matches!(self, TyKind::Str | TyKind::Other)
    }

    /// Numbers, and types the macro cannot see into.
    pub(super) fn numeric(self) -> bool {
        matches!(self, TyKind::Int | TyKind::Float | TyKind::Other)
    }
}

const STRINGS: &[&str] = &["String", "str"];
const INTEGERS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];
const FLOATS: &[&str] = &["f32", "f64"];
const SEQUENCES: &[&str] = &["Vec", "VecDeque", "HashSet", "BTreeSet"];
const MAPS: &[&str] = &["HashMap", "BTreeMap"];
/// Pointers a `nested` type is registered through, as if they were not there.
const POINTERS: &[&str] = &["Box", "Arc", "Rc"];

fn is_one_of(ident: &Ident, names: &[&str]) -> bool {
    names.iter().any(|name| ident == name)
}

/// The `n`th type argument of `Segment<...>`.
fn generic_arg(args: &PathArguments, n: usize) -> Option<&Type> {
    let PathArguments::AngleBracketed(a) = args else {
        return None;
    };
    a.args
        .iter()
        .filter_map(|g| match g {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .nth(n)
}

pub(super) fn classify(ty: &Type) -> TyKind<'_> {
    match ty {
        Type::Reference(r) => classify(&r.elem),
        Type::Paren(p) => classify(&p.elem),
        Type::Group(g) => classify(&g.elem),
        Type::Array(a) => TyKind::Seq(Some(&a.elem)),
        Type::Slice(s) => TyKind::Seq(Some(&s.elem)),
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map_or(TyKind::Other, classify_path)
        }
        _ => TyKind::Other,
    }
}

/// Classifies a path type by its last segment (`std::string::String` is a string).
fn classify_path(last: &PathSegment) -> TyKind<'_> {
    let ident = &last.ident;
    let arg = |n| generic_arg(&last.arguments, n);
    let cow_of_str =
        || ident == "Cow" && arg(0).is_some_and(|t| matches!(classify(t), TyKind::Str));
    if is_one_of(ident, STRINGS) || cow_of_str() {
        TyKind::Str
    } else if is_one_of(ident, INTEGERS) {
        TyKind::Int
    } else if is_one_of(ident, FLOATS) {
        TyKind::Float
    } else if ident == "bool" {
        TyKind::Bool
    } else if is_one_of(ident, SEQUENCES) {
        TyKind::Seq(arg(0))
    } else if is_one_of(ident, MAPS) {
        TyKind::Map(arg(1))
    } else if ident == "Option" {
        arg(0).map_or(TyKind::Other, TyKind::Option)
    } else {
        TyKind::Other
    }
}

/// The name a nested type is registered under (its last path segment) and how many
/// collection levels wrap it (`Vec<Address>` is `("Address", 1)`): the rule model says
/// `each(nested Address)` for it. `Option`, `Box`, `Arc` and `Rc` are transparent.
pub(super) fn type_name(ty: &Type) -> (String, usize) {
    match classify(ty) {
        TyKind::Seq(Some(item)) | TyKind::Map(Some(item)) => {
            let (name, depth) = type_name(item);
            return (name, depth + 1);
        }
        TyKind::Option(inner) => return type_name(inner),
        _ => {}
    }
    match ty {
        Type::Reference(r) => type_name(&r.elem),
        Type::Path(p) => match p.path.segments.last() {
            Some(last) if is_one_of(&last.ident, POINTERS) => {
                match generic_arg(&last.arguments, 0) {
                    Some(pointee) => type_name(pointee),
                    None => (last.ident.to_string(), 0),
                }
            }
            Some(last) => (last.ident.to_string(), 0),
            None => ("?".into(), 0),
        },
        _ => ("?".into(), 0),
    }
}

/// Whether `ty` names one of `params` anywhere in its tokens.
pub(super) fn mentions_param(ty: &Type, params: &[Ident]) -> bool {
    fn walk(tokens: proc_macro2::TokenStream, params: &[Ident]) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => params.contains(&i),
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), params),
            _ => false,
        })
    }
    walk(quote::ToTokens::to_token_stream(ty), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ty: &str) -> &'static str {
        let ty: Type = syn::parse_str(ty).unwrap();
        match classify(&ty) {
            TyKind::Str => "str",
            TyKind::Int => "int",
            TyKind::Float => "float",
            TyKind::Bool => "bool",
            TyKind::Seq(_) => "seq",
            TyKind::Map(_) => "map",
            TyKind::Option(_) => "option",
            TyKind::Other => "other",
        }
    }

    #[test]
    fn types_classify_by_their_last_segment() {
        for (ty, expected) in [
            ("String", "str"),
            ("&'a str", "str"),
            ("std::borrow::Cow<'static, str>", "str"),
            ("Cow<'static, [u8]>", "other"),
            ("u8", "int"),
            ("::core::primitive::i128", "int"),
            ("f64", "float"),
            ("bool", "bool"),
            ("[u8; 4]", "seq"),
            ("&[String]", "seq"),
            ("std::collections::VecDeque<u8>", "seq"),
            ("BTreeMap<String, u32>", "map"),
            ("Option<u32>", "option"),
            ("Option", "other"),
            ("<T as Trait>::String", "other"),
            ("Strings", "other"),
            ("(u8)", "int"),
        ] {
            assert_eq!(kind(ty), expected, "{ty}");
        }
    }

    #[test]
    fn nested_names_see_through_collections_and_pointers() {
        let name = |ty: &str| type_name(&syn::parse_str(ty).unwrap());
        assert_eq!(name("Address"), ("Address".into(), 0));
        assert_eq!(name("Vec<Option<Box<Address>>>"), ("Address".into(), 1));
        assert_eq!(
            name("HashMap<String, Vec<a::Address>>"),
            ("Address".into(), 2)
        );
        assert_eq!(name("Arc"), ("Arc".into(), 0));
        assert_eq!(name("fn()"), ("?".into(), 0));
    }
}
