//! Checks for free-text fields.

/// Trims, then requires 1..=max characters with no control characters: one line.
pub fn required(text: &str, max: usize) -> Result<String, String> {
    checked(text, max, |_| false)
}

/// The same for texts of several lines (statements, grounds, notes, messages): line breaks
/// and tabs are allowed, other control characters are not.
pub fn multiline(text: &str, max: usize) -> Result<String, String> {
    checked(text, max, |c| matches!(c, '\n' | '\r' | '\t'))
}

fn checked(text: &str, max: usize, allowed: impl Fn(char) -> bool) -> Result<String, String> {
    // Judged on the text as sent, as the document's pattern judges it; then trimmed.
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err("must not contain control characters".to_owned());
    }
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_refuses_line_breaks_and_several_lines_allow_them() {
        let text = "First paragraph.\r\n\r\nSecond,\tindented.";
        assert!(required(text, 100).is_err());
        assert_eq!(multiline(text, 100).unwrap(), text);
        assert!(multiline("bell \u{7} rings", 100).is_err());
        assert!(multiline(" \n\t ", 100).is_err(), "blank");
        assert_eq!(multiline("  padded \n", 100).unwrap(), "padded");
        assert!(multiline(&"x".repeat(101), 100).is_err());
        assert!(required("line\n", 100).is_err(), "a line break in one line");
    }
}
