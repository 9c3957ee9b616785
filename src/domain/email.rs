//! E-mail addresses, normalised to lower case.
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        // RFC 5322 syntax from a maintained crate, plus a domain with a dot: addresses we
        // will e-mail must be deliverable on the public internet.
        let parsed = email_address::EmailAddress::parse_with_options(
            text,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| "must be a valid e-mail address".to_owned())?;
        if !parsed.domain().contains('.') {
            return Err("must be a valid e-mail address with a full domain".to_owned());
        }
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
            Email::parse(" Jan@Example.ORG ").unwrap().as_str(),
            "jan@example.org"
        );
        assert!(Email::parse("jan.example.org").is_err());
        assert!(Email::parse("jan@localhost").is_err());
        assert!(Email::parse("").is_err());
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(300))).is_err());
        assert!(!format!("{:?}", Email::parse("jan@example.org").unwrap()).contains("jan"));
    }
}
