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
