//! What every coord macro shares: the error collector, key/value parsing with messages that
//! name the attribute and the key, literal parsing (durations, finite numbers, bounded
//! integers), "did you mean", and the spans generated code reports type errors at. The
//! composing layers themselves live in `compose/layer.rs`.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Lit, LitStr, Path, ReturnType, Signature};

/// The expression inside the invisible groups a `macro_rules!` fragment (`$name:literal`,
/// `$f:path`, `$e:expr`) arrives in, so a value passed through a user's macro reads as written.
pub(crate) fn ungroup(mut expr: syn::Expr) -> syn::Expr {
    while let syn::Expr::Group(group) = expr {
        expr = *group.expr;
    }
    expr
}

/// Collects errors so that one compile shows every mistake (serde_derive's `Ctxt`).
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Keeps the value of `result`, collecting its error.
    pub(crate) fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }
}

/// One `key = value` (or bare `key`) of an attribute, with messages naming both.
pub(crate) struct Key<'a, 'm> {
    pub(crate) attr: &'static str,
    pub(crate) name: String,
    pub(crate) meta: &'m ParseNestedMeta<'a>,
}

impl<'a, 'm> Key<'a, 'm> {
    /// Reads the key of `meta`, rejecting keys not in `keys` (with the closest one) and keys
    /// seen before.
    fn read(
        attr: &'static str,
        keys: &[&str],
        seen: &mut Vec<String>,
        meta: &'m ParseNestedMeta<'a>,
    ) -> syn::Result<Self> {
        let path = &meta.path;
        let name = match path.get_ident() {
            Some(ident) => ident.to_string(),
            None => quote!(#path).to_string().replace(' ', ""),
        };
        if !keys.contains(&name.as_str()) {
            return Err(meta.error(unknown(&format!("key `{name}` in #[{attr}]"), &name, keys)));
        }
        if seen.contains(&name) {
            return Err(meta.error(format!("duplicate key `{name}` in #[{attr}]")));
        }
        seen.push(name.clone());
        Ok(Self { attr, name, meta })
    }

    /// An error at `span` prefixed with the attribute and key.
    pub(crate) fn error(&self, span: Span, why: impl std::fmt::Display) -> syn::Error {
        syn::Error::new(span, format!("#[{}] `{}` {why}", self.attr, self.name))
    }

    /// The input after `=`; without one, the error says "needs a value: {usage}".
    pub(crate) fn value(&self, usage: impl std::fmt::Display) -> syn::Result<ParseStream<'a>> {
        self.meta
            .value()
            .map_err(|_| self.error(self.meta.path.span(), format!("needs a value: {usage}")))
    }

    /// The input after `=`, for a value like `example`.
    fn value_like(&self, example: &str) -> syn::Result<ParseStream<'a>> {
        self.value(format_args!("`{} = {example}`", self.name))
    }

    /// The literal after `=`; `expected` says what it should be, `example` shows one.
    fn lit(&self, expected: &str, example: &str) -> syn::Result<Lit> {
        let expr: syn::Expr = self
            .value_like(example)?
            .parse()
            .map_err(|e| self.error(e.span(), format!("expects {expected}, like `{example}`")))?;
        match ungroup(expr) {
            syn::Expr::Lit(lit) => Ok(lit.lit),
            other => Err(self.error(
                other.span(),
                format!("expects {expected}, like `{} = {example}`", self.name),
            )),
        }
    }

    /// A string literal; `example` is a valid value with its quotes.
    pub(crate) fn string(&self, example: &str) -> syn::Result<LitStr> {
        match self.lit("a string literal", example)? {
            Lit::Str(lit) => Ok(lit),
            other => Err(self.error(
                other.span(),
                format!("expects a string literal, like `{} = {example}`", self.name),
            )),
        }
    }

    /// A `true` or `false` literal.
    pub(crate) fn boolean(&self, example: &str) -> syn::Result<bool> {
        match self.lit("`true` or `false`", example)? {
            Lit::Bool(lit) => Ok(lit.value),
            other => Err(self.error(
                other.span(),
                format!(
                    "expects `true` or `false`, like `{} = {example}`",
                    self.name
                ),
            )),
        }
    }

    /// A non-empty string literal.
    pub(crate) fn name(&self, example: &str) -> syn::Result<LitStr> {
        let lit = self.string(example)?;
        if lit.value().trim().is_empty() {
            return Err(self.error(lit.span(), "must not be empty"));
        }
        Ok(lit)
    }

    /// A duration string such as `"250ms"`.
    pub(crate) fn duration(&self, example: &str) -> syn::Result<(Duration, Span)> {
        let lit = self.string(example)?;
        let duration = parse_duration(&lit.value()).map_err(|why| self.error(lit.span(), why))?;
        Ok((duration, lit.span()))
    }

    /// An integer literal in `min..=max`.
    pub(crate) fn integer(&self, min: u32, max: u32, example: &str) -> syn::Result<(u32, Span)> {
        let lit = self.lit("an integer", example)?;
        let Lit::Int(int) = &lit else {
            return Err(self.error(
                lit.span(),
                format!("expects an integer, like `{} = {example}`", self.name),
            ));
        };
        match int.base10_parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok((n, int.span())),
            _ => Err(self.error(
                int.span(),
                format!(
                    "must be a whole number in {min}..={max}, found {}",
                    int.base10_digits()
                ),
            )),
        }
    }

    /// A finite number (integer or float literal).
    pub(crate) fn number(&self, example: &str) -> syn::Result<(f64, Span)> {
        let lit = self.lit("a number", example)?;
        let span = lit.span();
        let not_number = || {
            self.error(
                span,
                format!("expects a number, like `{} = {example}`", self.name),
            )
        };
        let value = finite_number(&lit).ok_or_else(not_number)?;
        value
            .map(|v| (v, span))
            .map_err(|why| self.error(span, why))
    }

    /// A path (to a function).
    pub(crate) fn path(&self, example: &str) -> syn::Result<Path> {
        let expr: syn::Expr = self.value_like(example)?.parse().map_err(|e| {
            self.error(
                e.span(),
                format!("expects a path to a function, like `{example}`"),
            )
        })?;
        match ungroup(expr) {
            syn::Expr::Path(path) if path.qself.is_none() => Ok(path.path),
            other => Err(self.error(
                other.span(),
                format!(
                    "expects a path to a function, like `{} = {example}`",
                    self.name
                ),
            )),
        }
    }
}

/// Parses the `key = value, ...` arguments of `#[attr(...)]`: a key not in `keys` (with the
/// closest one) or given twice is an error; `each` reads the value of one accepted key.
pub(crate) fn parse_keys(
    attr: &'static str,
    keys: &[&str],
    tokens: TokenStream,
    mut each: impl FnMut(&Key<'_, '_>) -> syn::Result<()>,
) -> syn::Result<()> {
    let mut seen = Vec::new();
    syn::meta::parser(|meta| each(&Key::read(attr, keys, &mut seen, &meta)?)).parse2(tokens)
}

/// The short form `#[attr("literal")]`: `None` when the arguments do not start with a string
/// literal, else what `read` makes of it; nothing may follow it (`alone` says what may).
pub(crate) fn lone_string<T>(
    input: ParseStream,
    alone: &str,
    read: impl FnOnce(&LitStr) -> syn::Result<T>,
) -> syn::Result<Option<T>> {
    if !input.peek(LitStr) {
        return Ok(None);
    }
    let lit: LitStr = input.parse()?;
    let value = read(&lit)?;
    if !input.is_empty() {
        return Err(input.error(alone));
    }
    Ok(Some(value))
}

/// Replaces syn's own syntax errors ("expected ...", "unexpected ...") by `usage`; coord's
/// messages pass through.
pub(crate) fn syntax_as(usage: &str) -> impl Fn(syn::Error) -> syn::Error + '_ {
    move |e| {
        let text = e.to_string();
        if text.starts_with("expected") || text.starts_with("unexpected") {
            syn::Error::new(e.span(), usage)
        } else {
            e
        }
    }
}

/// The value of a number literal: `None` when it is not one, `Some(Err)` when it does not fit a
/// finite `f64` (`1e999`).
pub(crate) fn finite_number(lit: &Lit) -> Option<Result<f64, String>> {
    let parsed = match lit {
        Lit::Float(f) => f.base10_parse::<f64>().map_err(|e| e.to_string()),
        Lit::Int(i) => i.base10_parse::<f64>().map_err(|e| e.to_string()),
        _ => return None,
    };
    Some(parsed.and_then(|v| {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("`{}` is not a finite number", quote!(#lit)))
        }
    }))
}

/// "unknown `what`; did you mean `closest`? expected one of: a, b, c".
pub(crate) fn unknown(what: &str, name: &str, valid: &[&str]) -> String {
    let list = valid.join(", ");
    match did_you_mean(name, valid) {
        Some(closest) => {
            format!("unknown {what}; did you mean `{closest}`? expected one of: {list}")
        }
        None => format!("unknown {what}; expected one of: {list}"),
    }
}

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

/// Parses a duration such as `"250ms"`, `"2s"`, `"1.5s"`, `"1m"`, `"1h"`, `"500us"`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    use coord_duration::DurationError;
    let text = text.trim();
    coord_duration::parse(text).map_err(|error| match error {
        DurationError::Negative => {
            format!("must not be negative: `{text}`; write a duration like \"250ms\"")
        }
        DurationError::NoUnit => {
            format!("needs a unit: `{text}` should be like \"250ms\" (units: ns, us, ms, s, m, h)")
        }
        DurationError::UnknownUnit(other) => format!(
            "has an unknown unit `{other}` in `{text}`; expected one of ns, us, ms, s, m, h"
        ),
        DurationError::TooLarge => format!("is too large: `{text}`"),
        _ => format!("is not a duration: `{text}`; write it like \"250ms\" or \"2s\""),
    })
}

/// Tokens that rebuild `duration` at run time in a `const` context.
pub(crate) fn duration_tokens(duration: Duration) -> TokenStream {
    let secs = duration.as_secs();
    let nanos = duration.subsec_nanos();
    quote!(::core::time::Duration::new(#secs, #nanos))
}

/// A configuration expression: a `::coord::__private` type's default with a setter call chained
/// for each value the attribute gave.
pub(crate) struct Setters(TokenStream);

impl Setters {
    /// `<::coord::__private::#ty as Default>::default()`.
    pub(crate) fn default_of(ty: &str) -> Self {
        let ty = syn::Ident::new(ty, Span::call_site());
        Self::on(quote!(<::coord::__private::#ty as ::core::default::Default>::default()))
    }

    /// Setters chained on `start`.
    pub(crate) fn on(start: TokenStream) -> Self {
        Self(start)
    }

    /// Chains `.method(value)` if the value was given.
    pub(crate) fn set(mut self, method: &str, value: Option<impl quote::ToTokens>) -> Self {
        if let Some(value) = value {
            let method = syn::Ident::new(method, Span::call_site());
            let config = self.0;
            self.0 = quote!(#config.#method(#value));
        }
        self
    }

    /// Chains `.method(duration)` if the duration was given.
    pub(crate) fn duration(self, method: &str, value: Option<Duration>) -> Self {
        self.set(method, value.map(duration_tokens))
    }

    /// The expression.
    pub(crate) fn finish(self) -> TokenStream {
        self.0
    }
}

/// Where type errors about the return value point: the return type, else the name.
pub(crate) fn return_span(sig: &Signature) -> Span {
    match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("10us"), Ok(Duration::from_micros(10)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("1.2.3s").is_err());
        assert!(parse_duration("3 weeks").is_err());
        assert!(parse_duration("1e30h").is_err());
        assert!(parse_duration("-1s").unwrap_err().contains("negative"));
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("max_retry", &["max_retries", "base_delay"]),
            Some("max_retries")
        );
        assert_eq!(did_you_mean("zzz", &["max_retries", "base_delay"]), None);
    }
}
