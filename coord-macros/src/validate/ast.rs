//! The parsed input: the type's shape with its raw rules, borrowing the syn nodes for spans.

use syn::{Data, DeriveInput, Fields, Generics, Ident, Path, Type};

use super::Errors;
use super::attr::{self, RawRule, RenameAll};

pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a Generics,
    pub(crate) shape: Shape<'a>,
    pub(crate) schemas: Vec<Path>,
}

pub(crate) enum Shape<'a> {
    Struct(FieldList<'a>),
    Enum(Vec<Variant<'a>>),
}

pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) fields: FieldList<'a>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Named,
    Tuple,
    Unit,
}

pub(crate) struct FieldList<'a> {
    pub(crate) style: Style,
    pub(crate) fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    /// The Rust name (`None` for tuple fields).
    pub(crate) ident: Option<&'a Ident>,
    pub(crate) index: usize,
    /// The name in paths: serde renames applied; the index for tuple fields.
    pub(crate) data_name: String,
    pub(crate) ty: &'a Type,
    pub(crate) rules: Vec<RawRule>,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Option<Input<'a>> {
        let schemas = attr::container_schemas(&input.attrs, errors);
        let container = attr::serde_names(&input.attrs);
        let shape = match &input.data {
            Data::Struct(s) => {
                Shape::Struct(FieldList::from_syn(&s.fields, container.rename_all, errors))
            }
            Data::Enum(e) => Shape::Enum(
                e.variants
                    .iter()
                    .map(|v| {
                        let names = attr::serde_names(&v.attrs);
                        Variant {
                            ident: &v.ident,
                            fields: FieldList::from_syn(&v.fields, names.rename_all, errors),
                        }
                    })
                    .collect(),
            ),
            Data::Union(u) => {
                errors.push(syn::Error::new(
                    u.union_token.span,
                    "`#[derive(Validate)]` supports structs and enums, not unions",
                ));
                return None;
            }
        };
        Some(Input {
            ident: &input.ident,
            generics: &input.generics,
            shape,
            schemas,
        })
    }
}

impl<'a> FieldList<'a> {
    fn from_syn(fields: &'a Fields, rename_all: Option<RenameAll>, errors: &mut Errors) -> Self {
        let style = match fields {
            Fields::Named(_) => Style::Named,
            Fields::Unnamed(_) => Style::Tuple,
            Fields::Unit => Style::Unit,
        };
        let fields = fields
            .iter()
            .enumerate()
            .map(|(index, f)| {
                let names = attr::serde_names(&f.attrs);
                let data_name = match (&names.rename, &f.ident) {
                    (Some(r), _) => r.clone(),
                    (None, Some(id)) => {
                        let raw = id.to_string();
                        let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
                        match rename_all {
                            Some(rule) => rule.apply_to_field(&raw),
                            None => raw,
                        }
                    }
                    (None, None) => index.to_string(),
                };
                Field {
                    ident: f.ident.as_ref(),
                    index,
                    data_name,
                    ty: &f.ty,
                    rules: attr::field_rules(&f.attrs, errors),
                }
            })
            .collect();
        FieldList { style, fields }
    }
}
