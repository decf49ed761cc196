//! Field errors: every fault in a request is reported with the field it is in. The HTTP layer
//! turns a list of them into a 400 problem document (`errors[]`).

use serde::Serialize;

/// A field at fault, as reported in the problem's `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Whether free text holds a control character other than a line break or a tab (a NUL byte, an
/// escape sequence): such text is refused, naming its field, rather than stored and shown back.
pub fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// The message of a field refused by [`has_control`].
pub const CONTROL: &str = "must not hold control characters (only line breaks and tabs)";

/// The errors as one line, `field: message; field: message` (a problem's `detail`).
pub fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Finds the field a serde message speaks of (`unknown field `x``, `missing field `x``), or
/// the path where the error was found.
pub fn from_serde(path: &str, message: &str) -> FieldError {
    // serde_json appends " at line L column C"; the position is noise for a field error.
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let base = if path == "." { "" } else { path };
    for prefix in ["unknown field `", "missing field `", "duplicate field `"] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(name) = rest.split('`').next()
        {
            // serde_path_to_error's path already ends at an unknown field.
            let field = if base.is_empty() {
                name.to_string()
            } else if base == name || base.ends_with(&format!(".{name}")) {
                base.to_string()
            } else {
                format!("{base}.{name}")
            };
            let what = match prefix {
                "unknown field `" => "is not a known field".to_string(),
                "missing field `" => "is required".to_string(),
                _ => "is given twice".to_string(),
            };
            return FieldError::new(field, what);
        }
    }
    let field = if base.is_empty() { "body" } else { base };
    FieldError::new(field, without_value(message))
}

/// serde's "invalid type: string \"…\", expected …" repeats the value sent, which may be a
/// patient's identity number: errors say what was expected, never what was sent.
fn without_value(message: &str) -> String {
    for (prefix, what) in [
        ("invalid type:", "has the wrong type"),
        ("invalid value:", "is not valid"),
        ("invalid length", "has the wrong length"),
    ] {
        if message.starts_with(prefix) {
            return match message.rsplit_once(", expected ") {
                Some((_, expected)) => format!("{what}; expected {expected}"),
                None => what.to_string(),
            };
        }
    }
    message.to_string()
}

/// `Ok` when nothing was found at fault, else every fault.
pub fn check(errors: Vec<FieldError>) -> Result<(), Vec<FieldError>> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A plausible single email address (no display name, no list).
pub fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || c == ',' || c == '<' || c == '>')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_list_or_a_display_name_is_not_an_address() {
        assert!(looks_like_email("jd@wjw.example.cn"));
        for bad in [
            "",
            "jd",
            "@x.cn",
            "jd@cn",
            "jd@.cn",
            "jd@x.",
            "a@x.cn, b@x.cn",
            "J <j@x.cn>",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
