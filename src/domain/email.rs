//! E-mail addresses we can deliver to on the public internet, normalised to lower case: the
//! one rule, checked here and written into the OpenAPI document by [`Email::pattern`].
//!
//! A local part of RFC 5322's dot-atom (letters, digits, ``!#$%&'*+/=?^_`{|}~-`` and dots
//! between them; up to 64 characters), `@`, and a host name by the `dns` rule. Quoted local
//! parts, comments, display names and address literals are refused: they are legal in a
//! message header, not in an address a volunteer types.
use std::fmt;

use super::dns;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// What a local part may hold besides its dots.
const ATEXT: &str = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
const MAX_LOCAL: usize = 64;

impl Email {
    pub const MAX_LEN: usize = 254;

    /// The rule as a regular expression (ECMA-262, as JSON Schema's `pattern`); `maxLength`
    /// states the whole address's length, which also keeps the domain within `dns::MAX_NAME`.
    pub fn pattern() -> String {
        format!(
            "^(?![^@]{{{over}}}){ATEXT}+(\\.{ATEXT}+)*@{}$",
            dns::NAME_PATTERN,
            over = MAX_LOCAL + 1
        )
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let Some((local, domain)) = text.split_once('@') else {
            return Err("must be an e-mail address (name@example.org)".to_owned());
        };
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
        if local.is_empty()
            || local.len() > MAX_LOCAL
            || local
                .split('.')
                .any(|atom| atom.is_empty() || !atom.chars().all(atext))
        {
            return Err(format!(
                "must be an e-mail address whose part before the @ is up to {MAX_LOCAL} \
                 letters, digits, dots (not at either end, not two in a row) and \
                 !#$%&'*+/=?^_`{{|}}~-"
            ));
        }
        dns::check_name(domain).map_err(|_| {
            "must be an e-mail address with a full domain name, like name@example.org (letters, \
             digits, hyphens and dots; an international name in punycode, xn--…)"
                .to_owned()
        })?;
        Ok(Email(text.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for Email {
    // Personal data: never printed in logs through Debug.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(
            Email::parse("Jan@Example.ORG").unwrap().as_str(),
            "jan@example.org"
        );
        // The document's pattern takes no surrounding blanks, so neither does the rule.
        assert!(Email::parse(" jan@example.org").is_err());
        assert!(Email::parse("jan.example.org").is_err());
        assert!(Email::parse("jan@localhost").is_err());
        assert!(Email::parse("").is_err());
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(300))).is_err());
        assert!(!format!("{:?}", Email::parse("jan@example.org").unwrap()).contains("jan"));
    }
}
