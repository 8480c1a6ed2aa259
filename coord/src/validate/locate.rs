//! Line and column of a value in a YAML rule document, found again from its key path.
//!
//! `serde_norway::Value` keeps no positions, and most checks run on the parsed value. When a
//! refusal needs a position (a pattern over the document's regex budget), the source is walked a
//! second time down the key path, and an error is raised on arriving: the parser stamps that
//! error with the position it stands at. This runs only on the refusal path.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_norway::Value as Yaml;

/// The message raised at the target, told apart from any other error.
const ARRIVED: &str = "coord: located";

/// 1-based line and column of the value at `path` (mapping keys, outermost first) in `src`, or
/// `None` when the path is not there (or `src` does not parse).
pub(crate) fn locate(src: &str, path: &[&str]) -> Option<(usize, usize)> {
    let de = serde_norway::Deserializer::from_str(src);
    match Seek(path).deserialize(de) {
        Err(e) if e.to_string().contains(ARRIVED) => e.location().map(|l| (l.line(), l.column())),
        _ => None,
    }
}

/// Walks down `self.0`; arriving (an empty path) is an error carrying the position.
struct Seek<'p>(&'p [&'p str]);

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Seek<'_> {
    fn leaf<E: de::Error>(self) -> Result<(), E> {
        if self.0.is_empty() {
            Err(E::custom(ARRIVED))
        } else {
            Ok(())
        }
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.0.split_first() else {
            return Err(de::Error::custom(ARRIVED));
        };
        while let Some(key) = map.next_key::<Yaml>()? {
            if key.as_str() == Some(*first) {
                return map.next_value_seed(Seek(rest));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.0.is_empty() {
            return Err(de::Error::custom(ARRIVED));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.leaf()
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.leaf()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.leaf()
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        if self.0.is_empty() {
            return Err(de::Error::custom(ARRIVED));
        }
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(variant).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    const DOC: &str = "\
set:
  field_validations:
    name: {type: string}
    code:
      type: string
      pattern: '^[a-z]+$'
    inner:
      nested:
        field_validations:
          deep: {pattern: x}
";

    #[test]
    fn finds_a_block_value_a_flow_value_and_a_nested_one() {
        assert_eq!(
            locate(DOC, &["set", "field_validations", "code", "pattern"]),
            Some((6, 16))
        );
        assert_eq!(
            locate(DOC, &["set", "field_validations", "name", "type"]),
            Some((3, 18))
        );
        let deep = [
            "set",
            "field_validations",
            "inner",
            "nested",
            "field_validations",
            "deep",
            "pattern",
        ];
        assert_eq!(locate(DOC, &deep), Some((10, 27)));
    }

    #[test]
    fn a_missing_path_or_a_broken_document_gives_none() {
        assert_eq!(locate(DOC, &["set", "field_validations", "nope"]), None);
        assert_eq!(locate("a: [\nb: 1\n", &["b"]), None);
    }
}
