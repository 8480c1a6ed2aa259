//! Syntax of `#[validate(...)]` and the parts of `#[serde(...)]` that change field names.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, Lit, LitFloat, LitInt, LitStr, Meta, Path, Token, parenthesized};

/// Rule names accepted on a field.
pub(crate) const FIELD_RULES: &[&str] = &[
    "email",
    "url",
    "uuid",
    "datetime",
    "length",
    "range",
    "pattern",
    "one_of",
    "required",
    "nested",
    "each",
    "custom",
    "must_match",
];

/// One rule as written, before any check.
pub(crate) struct RawRule {
    pub(crate) name: Ident,
    pub(crate) kind: RawKind,
    pub(crate) message: Option<LitStr>,
}

/// A numeric literal with its span (range bounds may be negative or fractional).
#[derive(Clone)]
pub(crate) struct Num {
    pub(crate) value: f64,
    pub(crate) span: Span,
}

pub(crate) enum RawKind {
    Format(&'static str),
    Required,
    Nested,
    Length {
        min: Option<LitInt>,
        max: Option<LitInt>,
        equal: Option<LitInt>,
    },
    Range {
        min: Option<Num>,
        max: Option<Num>,
    },
    Pattern(LitStr),
    OneOf(Vec<Lit>),
    Each(Vec<RawRule>),
    Custom(Path),
    MustMatch(LitStr),
}

/// Struct-level `#[validate(schema = path)]`.
pub(crate) fn container_schemas(attrs: &[Attribute], errors: &mut super::Errors) -> Vec<Path> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("validate")) {
        let res = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("schema") {
                out.push(meta.value()?.parse::<Path>()?);
                Ok(())
            } else {
                Err(meta.error("unknown container rule; expected `schema = path::to::function`"))
            }
        });
        if let Err(e) = res {
            errors.push(e);
        }
    }
    out
}

/// Every `#[validate(...)]` rule of a field.
pub(crate) fn field_rules(attrs: &[Attribute], errors: &mut super::Errors) -> Vec<RawRule> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("validate")) {
        match attr.parse_args_with(parse_rule_list) {
            Ok(rules) => out.extend(rules),
            Err(e) => errors.push(e),
        }
    }
    out
}

fn parse_rule_list(input: ParseStream<'_>) -> syn::Result<Vec<RawRule>> {
    let mut rules = Vec::new();
    while !input.is_empty() {
        rules.push(parse_rule(input)?);
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(rules)
}

/// Errors when rule `name` is not followed by its parenthesised arguments.
fn needs_parens(input: ParseStream<'_>, name: &Ident, example: &str) -> syn::Result<()> {
    if input.peek(syn::token::Paren) {
        return Ok(());
    }
    Err(syn::Error::new(
        name.span(),
        format!("#[validate({name})] needs arguments, like `#[validate({example})]`"),
    ))
}

/// Errors when rule `name` is not followed by `= value`.
fn needs_value(input: ParseStream<'_>, name: &Ident, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        return Ok(());
    }
    Err(syn::Error::new(
        name.span(),
        format!("#[validate({name})] needs a value, like `#[validate({example})]`"),
    ))
}

/// The `T` after `rule = `; `expects` replaces syn's message when the value is not one.
fn value_of<T: Parse>(
    input: ParseStream<'_>,
    name: &Ident,
    example: &str,
    expects: &str,
) -> syn::Result<T> {
    needs_value(input, name, example)?;
    input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), expects))
}

/// A number literal must be finite (`1e999` is not).
fn finite(lit: Lit, what: &str) -> syn::Result<Lit> {
    match crate::common::finite_number(&lit) {
        Some(Err(why)) => Err(syn::Error::new(lit.span(), format!("{what}: {why}"))),
        _ => Ok(lit),
    }
}

fn parse_rule(input: ParseStream<'_>) -> syn::Result<RawRule> {
    let name = input.call(Ident::parse_any)?;
    let mut message = None;
    let kind = match name.to_string().as_str() {
        "email" | "url" | "uuid" | "datetime" | "required" | "nested" => {
            if input.peek(syn::token::Paren) {
                let content;
                parenthesized!(content in input);
                let mut args = Args::parse(&content, &name, &["message"])?;
                message = args.take_str("message")?;
            }
            match name.to_string().as_str() {
                "email" => RawKind::Format("Email"),
                "url" => RawKind::Format("Url"),
                "uuid" => RawKind::Format("Uuid"),
                "datetime" => RawKind::Format("DateTime"),
                "required" => RawKind::Required,
                _ => RawKind::Nested,
            }
        }
        "length" => {
            needs_parens(input, &name, "length(min = 1, max = 50)")?;
            let content;
            parenthesized!(content in input);
            let mut args = Args::parse(&content, &name, &["min", "max", "equal", "message"])?;
            message = args.take_str("message")?;
            RawKind::Length {
                min: args.take_int("min")?,
                max: args.take_int("max")?,
                equal: args.take_int("equal")?,
            }
        }
        "range" => {
            needs_parens(input, &name, "range(min = 0, max = 100)")?;
            let content;
            parenthesized!(content in input);
            let mut args = Args::parse(&content, &name, &["min", "max", "message"])?;
            message = args.take_str("message")?;
            RawKind::Range {
                min: args.take_num("min")?,
                max: args.take_num("max")?,
            }
        }
        "pattern" => {
            if !input.peek(syn::token::Paren) {
                RawKind::Pattern(value_of(
                    input,
                    &name,
                    "pattern = \"^[a-z]+$\"",
                    "#[validate(pattern = ...)] expects a string literal, like `pattern = \"^[a-z]+$\"`",
                )?)
            } else if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                RawKind::Pattern(input.parse()?)
            } else {
                let content;
                parenthesized!(content in input);
                let re: LitStr = content.parse()?;
                if content.peek(Token![,]) {
                    content.parse::<Token![,]>()?;
                    let mut args = Args::parse(&content, &name, &["message"])?;
                    message = args.take_str("message")?;
                }
                RawKind::Pattern(re)
            }
        }
        "one_of" => {
            needs_parens(input, &name, "one_of(\"a\", \"b\")")?;
            let content;
            parenthesized!(content in input);
            let mut values = Vec::new();
            while !content.is_empty() {
                if content.peek(Ident::peek_any) {
                    let mut args = Args::parse(&content, &name, &["message"])?;
                    message = args.take_str("message")?;
                    break;
                }
                values.push(finite(
                    parse_signed_lit(&content)?,
                    "#[validate(one_of)] value",
                )?);
                if content.is_empty() {
                    break;
                }
                content.parse::<Token![,]>()?;
            }
            RawKind::OneOf(values)
        }
        "each" => {
            needs_parens(input, &name, "each(length(max = 20))")?;
            let content;
            parenthesized!(content in input);
            RawKind::Each(parse_rule_list(&content)?)
        }
        "custom" => RawKind::Custom(value_of(
            input,
            &name,
            "custom = path::to::check",
            "#[validate(custom = ...)] expects a path to a `fn(&T) -> Result<(), coord::RuleError>`",
        )?),
        "must_match" => {
            needs_value(input, &name, "must_match = other_field")?;
            let other = if input.peek(LitStr) {
                input.parse::<LitStr>()?
            } else {
                let id = input.call(Ident::parse_any)?;
                LitStr::new(&id.unraw().to_string(), id.span())
            };
            RawKind::MustMatch(other)
        }
        "schema" => {
            return Err(syn::Error::new(
                name.span(),
                "`schema` is a container rule: put `#[validate(schema = path)]` on the type",
            ));
        }
        other => {
            let mut msg = format!(
                "unknown validation rule `{other}`; expected one of: {}",
                FIELD_RULES.join(", ")
            );
            if let Some(s) = super::closest(other, FIELD_RULES) {
                msg = format!("unknown validation rule `{other}`: did you mean `{s}`?");
            }
            return Err(syn::Error::new(name.span(), msg));
        }
    };
    Ok(RawRule {
        name,
        kind,
        message,
    })
}

/// A literal, allowing a leading `-` on numbers.
fn parse_signed_lit(input: ParseStream<'_>) -> syn::Result<Lit> {
    if input.peek(Token![-]) {
        let minus: Token![-] = input.parse()?;
        let lit: Lit = input.parse()?;
        let span = minus.span;
        return match lit {
            Lit::Int(i) => Ok(Lit::Int(LitInt::new(
                &format!("-{}", i.base10_digits()),
                span,
            ))),
            Lit::Float(f) => Ok(Lit::Float(LitFloat::new(
                &format!("-{}", f.base10_digits()),
                span,
            ))),
            other => Err(syn::Error::new_spanned(
                other,
                "#[validate] expects a number literal after `-`, like `min = -10`",
            )),
        };
    }
    input.parse()
}

/// `key = literal` pairs inside a rule's parentheses; unknown and duplicate keys are errors.
struct Args {
    rule: String,
    pairs: Vec<(Ident, Lit)>,
}

impl Args {
    fn parse(input: ParseStream<'_>, rule: &Ident, accepted: &[&str]) -> syn::Result<Args> {
        let mut pairs: Vec<(Ident, Lit)> = Vec::new();
        while !input.is_empty() {
            let key = input.call(Ident::parse_any)?;
            let k = key.to_string();
            if !accepted.contains(&k.as_str()) {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{k}` of `{rule}`; expected {}",
                        accepted
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if pairs.iter().any(|(p, _)| *p == key) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate argument `{k}` of `{rule}`"),
                ));
            }
            input.parse::<Token![=]>()?;
            let value = parse_signed_lit(input)?;
            pairs.push((key, value));
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(Args {
            rule: rule.to_string(),
            pairs,
        })
    }

    fn take(&mut self, key: &str) -> Option<(Ident, Lit)> {
        let i = self.pairs.iter().position(|(k, _)| k == key)?;
        Some(self.pairs.remove(i))
    }

    fn take_str(&mut self, key: &str) -> syn::Result<Option<LitStr>> {
        match self.take(key) {
            None => Ok(None),
            Some((_, Lit::Str(s))) => Ok(Some(s)),
            Some((_, other)) => Err(syn::Error::new_spanned(
                other,
                format!("`{key}` of `{}` must be a string literal", self.rule),
            )),
        }
    }

    fn take_int(&mut self, key: &str) -> syn::Result<Option<LitInt>> {
        match self.take(key) {
            None => Ok(None),
            Some((_, Lit::Int(i))) if i.base10_parse::<u64>().is_ok() => Ok(Some(i)),
            Some((_, other)) => Err(syn::Error::new_spanned(
                other,
                format!(
                    "`{key}` of `{}` must be a non-negative integer literal that fits in 64 bits",
                    self.rule
                ),
            )),
        }
    }

    fn take_num(&mut self, key: &str) -> syn::Result<Option<Num>> {
        let (value, span) = match self.take(key) {
            None => return Ok(None),
            Some((_, Lit::Int(i))) => (i.base10_parse::<f64>()?, i.span()),
            Some((_, Lit::Float(f))) => (f.base10_parse::<f64>()?, f.span()),
            Some((_, other)) => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!("`{key}` of `{}` must be a number literal", self.rule),
                ));
            }
        };
        if !value.is_finite() {
            return Err(syn::Error::new(
                span,
                format!("`{key}` of `{}` must be a finite number", self.rule),
            ));
        }
        Ok(Some(Num { value, span }))
    }
}

/// serde's case conventions for `rename_all`.
#[derive(Clone, Copy)]
pub(crate) enum RenameAll {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameAll {
    fn from_str(s: &str) -> Option<RenameAll> {
        Some(match s {
            "lowercase" => RenameAll::Lower,
            "UPPERCASE" => RenameAll::Upper,
            "PascalCase" => RenameAll::Pascal,
            "camelCase" => RenameAll::Camel,
            "snake_case" => RenameAll::Snake,
            "SCREAMING_SNAKE_CASE" => RenameAll::ScreamingSnake,
            "kebab-case" => RenameAll::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameAll::ScreamingKebab,
            _ => return None,
        })
    }

    /// Renames a snake_case field name.
    pub(crate) fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameAll::Lower | RenameAll::Snake => field.to_owned(),
            RenameAll::Upper | RenameAll::ScreamingSnake => field.to_ascii_uppercase(),
            RenameAll::Pascal | RenameAll::Camel => {
                let mut out = String::new();
                let mut upper = matches!(self, RenameAll::Pascal);
                for c in field.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.extend(c.to_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            RenameAll::Kebab => field.replace('_', "-"),
            RenameAll::ScreamingKebab => field.replace('_', "-").to_ascii_uppercase(),
        }
    }
}

/// What `#[serde(...)]` says about names: `rename` (or `rename(serialize = ...)`) and
/// `rename_all`. Other serde keys are serde's business and ignored here.
#[derive(Default)]
pub(crate) struct SerdeNames {
    pub(crate) rename: Option<String>,
    pub(crate) rename_all: Option<RenameAll>,
}

pub(crate) fn serde_names(attrs: &[Attribute]) -> SerdeNames {
    let mut out = SerdeNames::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let Ok(metas) = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        else {
            continue;
        };
        for meta in metas {
            let (is_rename, value) = match &meta {
                Meta::NameValue(nv) if nv.path.is_ident("rename") => (true, str_expr(&nv.value)),
                Meta::NameValue(nv) if nv.path.is_ident("rename_all") => {
                    (false, str_expr(&nv.value))
                }
                Meta::List(list)
                    if list.path.is_ident("rename") || list.path.is_ident("rename_all") =>
                {
                    let inner = list
                        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                        .ok()
                        .and_then(|m| {
                            m.into_iter().find_map(|m| match m {
                                Meta::NameValue(nv) if nv.path.is_ident("serialize") => {
                                    str_expr(&nv.value)
                                }
                                _ => None,
                            })
                        });
                    (list.path.is_ident("rename"), inner)
                }
                _ => continue,
            };
            let Some(value) = value else { continue };
            if is_rename {
                out.rename = Some(value);
            } else {
                out.rename_all = RenameAll::from_str(&value);
            }
        }
    }
    out
}

fn str_expr(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

impl Parse for RawRule {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        parse_rule(input)
    }
}
