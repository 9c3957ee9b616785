//! ISO 3166-1 alpha-2 country codes and EU membership.
use std::{fmt, str::FromStr};

/// The 27 member states of the European Union. The one place this list is kept.
pub const EU_MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// A country code that ISO 3166-1 assigns (upper case, two letters).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bytes = text.as_bytes();
        if bytes.len() != 2 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err("must be an ISO 3166-1 alpha-2 code in upper case, e.g. UG".to_owned());
        }
        celes::Country::from_alpha2(text)
            .map_err(|_| format!("{text} is not an assigned ISO 3166-1 country code"))?;
        Ok(CountryCode([bytes[0], bytes[1]]))
    }

    pub fn as_str(&self) -> &str {
        // Constructed only from two ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    pub fn is_eu_member(&self) -> bool {
        EU_MEMBER_STATES.contains(&self.as_str())
    }
}

/// The code of a country as a person writes it in a file: its code (`ug`, `UG`) or its name
/// or a common alias ("Uganda", "Netherlands"); `None` when neither.
pub fn code_for(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() == 2 {
        return celes::Country::from_alpha2(text)
            .ok()
            .map(|c| c.alpha2.to_owned());
    }
    text.parse::<celes::Country>()
        .ok()
        .map(|c| c.alpha2.to_owned())
}

impl FromStr for CountryCode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_assigned_codes_only() {
        assert_eq!(CountryCode::parse("UG").unwrap().as_str(), "UG");
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("ug").is_err());
        assert!(CountryCode::parse("UGA").is_err());
        assert!(CountryCode::parse("").is_err());
    }

    #[test]
    fn eu_membership() {
        assert!(CountryCode::parse("NL").unwrap().is_eu_member());
        assert_eq!(code_for("ug").as_deref(), Some("UG"));
        assert_eq!(code_for("Uganda").as_deref(), Some("UG"));
        assert_eq!(code_for("Philippines").as_deref(), Some("PH"));
        assert_eq!(code_for("Atlantis"), None);
        assert!(CountryCode::parse("DE").unwrap().is_eu_member());
        for outside in ["UG", "PH", "TH", "PE", "GB", "NO", "CH"] {
            assert!(
                !CountryCode::parse(outside).unwrap().is_eu_member(),
                "{outside}"
            );
        }
        for code in EU_MEMBER_STATES {
            assert!(
                CountryCode::parse(code).is_ok(),
                "{code} must be a real code"
            );
        }
    }
}
