//! The file as serde reads it, checked while it is read so that every error carries its line
//! and column; then each section checked by the mechanism that owns it, and applied all at once.
//! The sections and their order come from the list in `crate::mechanisms`.

use super::{ConfigErrorKind, Loaded, MAX_CONFIG_BYTES};
use crate::mechanisms::{Checked, File, FileRefusal};

type Located = (Option<(usize, usize)>, ConfigErrorKind);

/// Parses and checks `text`; nothing is applied.
pub(super) fn parse(text: &str) -> Result<Checked, Located> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err((None, ConfigErrorKind::TooLarge { bytes: text.len() }));
    }
    let file: Option<File> = serde_norway::from_str(text).map_err(yaml_error)?;
    file.unwrap_or_default().check().map_err(refused)
}

/// Applies a checked file; every value was checked, so only a race with another `configure`
/// (the monitor's) could still refuse.
pub(super) fn apply(checked: Checked) -> Result<Loaded, Located> {
    checked.apply().map_err(refused)
}

fn refused(refusal: FileRefusal) -> Located {
    match refusal {
        FileRefusal::Invalid(message) => invalid(None, message),
        FileRefusal::Rules(e) => (None, ConfigErrorKind::Rules(e)),
    }
}

fn invalid(location: Option<(usize, usize)>, message: String) -> Located {
    (location, ConfigErrorKind::Invalid { message })
}

/// serde_norway's error, rewritten to name the key's place in the file and, for an unknown key,
/// the closest known one.
fn yaml_error(e: serde_norway::Error) -> Located {
    let location = e.location().map(|l| (l.line(), l.column()));
    let text = e.to_string();
    if text.contains("repetition limit exceeded") {
        return invalid(
            location,
            "aliases expand beyond any sensible configuration (refused)".into(),
        );
    }
    if text.contains("recursion limit exceeded") {
        return invalid(location, "the document nests too deeply".into());
    }
    // serde_norway writes "path.to.key: message at line L column C".
    let text = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    let (path, message) = match text.split_once(": ") {
        Some((path, message)) if !path.contains(' ') => (Some(path), message),
        _ => (None, text),
    };
    let message = match unknown_field(message) {
        Some((field, expected)) => {
            let place = path.map(|p| format!(" in {p}")).unwrap_or_default();
            let hint = match crate::naming::closest(field, expected.iter().copied()) {
                Some(best) => format!("; did you mean `{best}`?"),
                None => format!("; expected one of {}", expected.join(", ")),
            };
            format!("unknown key `{field}`{place}{hint}")
        }
        None => match path {
            Some(path) => format!("{path}: {message}"),
            None => message.to_string(),
        },
    };
    invalid(location, message)
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a`").
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest.split('`').skip(1).step_by(2).collect();
    Some((field, expected))
}
