//! What every coord attribute macro shares: which attributes compose, and duration literals.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, LitStr, Path};

/// The coord attributes that compose into one wrapper, in their fixed nesting order
/// (outermost first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Layer {
    TrackPerformance,
    Retry,
    /// Innermost: a rejection must happen before the body runs and must not be retried.
    CircuitBreaker,
}

impl Layer {
    pub(crate) const ALL: [Layer; 3] =
        [Layer::TrackPerformance, Layer::Retry, Layer::CircuitBreaker];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Layer::TrackPerformance => "track_performance",
            Layer::Retry => "retry",
            Layer::CircuitBreaker => "circuit_breaker",
        }
    }

    /// The layer an attribute path names: `name` or `coord::name`.
    pub(crate) fn of_path(path: &Path) -> Option<Layer> {
        let segments: Vec<_> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let name = match segments.as_slice() {
            [name] => name,
            [krate, name] if krate == "coord" => name,
            _ => return None,
        };
        Layer::ALL.into_iter().find(|layer| layer.name() == name)
    }
}

/// One coord attribute found on the item, with the tokens inside its parentheses.
pub(crate) struct LayerAttr {
    pub(crate) layer: Layer,
    pub(crate) args: TokenStream,
    pub(crate) span: Span,
}

impl LayerAttr {
    /// Reads a sibling attribute (`#[retry(...)]`, `#[retry]`); `name = value` forms are errors.
    pub(crate) fn from_attribute(layer: Layer, attr: &Attribute) -> syn::Result<Self> {
        let args = match &attr.meta {
            syn::Meta::Path(_) => TokenStream::new(),
            syn::Meta::List(list) => list.tokens.clone(),
            syn::Meta::NameValue(nv) => {
                return Err(syn::Error::new_spanned(
                    nv,
                    format!("expected `#[{0}]` or `#[{0}(...)]`", layer.name()),
                ));
            }
        };
        Ok(Self {
            layer,
            args,
            span: spanned_path(&attr.meta),
        })
    }
}

fn spanned_path(meta: &syn::Meta) -> Span {
    syn::spanned::Spanned::span(meta.path())
}

/// Parses a duration literal such as `"250ms"`, `"2s"`, `"1.5s"`, `"1m"`, `"1h"`, `"500us"`.
pub(crate) fn parse_duration(lit: &LitStr) -> syn::Result<Duration> {
    parse_duration_str(&lit.value()).map_err(|why| syn::Error::new(lit.span(), why))
}

pub(crate) fn parse_duration_str(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let nanos_per_unit: f64 = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        "" => {
            return Err(format!(
                "duration `{text}` needs a unit: one of ns, us, ms, s, m, h (for example \"250ms\")"
            ));
        }
        other => {
            return Err(format!(
                "unknown duration unit `{other}` in `{text}`; expected one of ns, us, ms, s, m, h"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write it like \"250ms\" or \"2s\""))?;
    let nanos = value * nanos_per_unit;
    if !nanos.is_finite() || nanos > u64::MAX as f64 {
        return Err(format!("duration `{text}` is too large"));
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

/// Tokens that rebuild `duration` at run time in a `const` context.
pub(crate) fn duration_tokens(duration: Duration) -> TokenStream {
    let secs = duration.as_secs();
    let nanos = duration.subsec_nanos();
    quote::quote!(::core::time::Duration::new(#secs, #nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_str("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration_str("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration_str("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration_str("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration_str("10us"), Ok(Duration::from_micros(10)));
        assert!(parse_duration_str("10").is_err());
        assert!(parse_duration_str("ms").is_err());
        assert!(parse_duration_str("1.2.3s").is_err());
        assert!(parse_duration_str("3 weeks").is_err());
        assert!(parse_duration_str("1e30h").is_err());
    }
}
