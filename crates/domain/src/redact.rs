//! Masks identifiers written into free text (identity-card numbers, phone numbers and other long
//! numbers), before an inspector or an email sees the text.

/// The text with identifiers masked, and whether anything was masked.
pub fn redact(text: &str) -> (String, bool) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A run of digits, with single spaces or hyphens inside (138-0013-8000, 138 0013 8000)
        // and an identity number's final X.
        let start = i;
        let mut digits = String::new();
        let mut end = i;
        while end < chars.len() {
            let c = chars[end];
            if c.is_ascii_digit() {
                digits.push(c);
                end += 1;
            } else if (c == '-' || c == ' ')
                && end + 1 < chars.len()
                && chars[end + 1].is_ascii_digit()
                && !digits.is_empty()
            {
                end += 1;
            } else {
                break;
            }
        }
        let mut with_x = false;
        if end < chars.len() && matches!(chars[end], 'X' | 'x') && digits.len() == 17 {
            with_x = true;
            end += 1;
        }
        let len = digits.len() + usize::from(with_x);
        let mask = if len == 18 || (len == 15 && !with_x) {
            Some("[身份证号已隐去]")
        } else if len == 11 && digits.starts_with('1') {
            Some("[手机号已隐去]")
        } else if len >= 7 {
            Some("[号码已隐去]")
        } else {
            None
        };
        match mask {
            Some(m) => {
                out.push_str(m);
                changed = true;
            }
            None => out.extend(&chars[start..end]),
        }
        i = end;
    }
    (out, changed)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn identifiers_are_masked_and_ordinary_numbers_kept() {
        let (t, c) = redact(
            "身份证11010519491231002X，电话 138-0013-8000，座机010 6512 3456，3月5日下午2点，等了45分钟",
        );
        assert!(c);
        assert!(
            !t.contains("11010519491231002X") && !t.contains("8000") && !t.contains("6512"),
            "{t}"
        );
        assert!(
            t.contains("[身份证号已隐去]")
                && t.contains("[手机号已隐去]")
                && t.contains("[号码已隐去]"),
            "{t}"
        );
        assert!(t.contains("3月5日下午2点") && t.contains("45分钟"), "{t}");
        assert_eq!(redact("120 急救"), ("120 急救".to_string(), false));
        assert!(redact("13800138000").0.contains("手机号"));
        assert!(redact("110105194912310").0.contains("身份证号"));
    }
}
