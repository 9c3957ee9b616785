//! The Dutch citizen service number (BSN): nine digits passing the 11-check.
use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Bsn(String);

/// The shape, for the OpenAPI document; the 11-check is said in words beside it.
pub const PATTERN: &str = "^[0-9]{9}$";

impl Bsn {
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
        if text.len() != 9 || digits.len() != 9 {
            return Err("must be exactly 9 digits".to_owned());
        }
        // 9·d1 + 8·d2 + … + 2·d8 − 1·d9 must be a multiple of 11 (and not zero).
        let sum: i64 = digits[..8]
            .iter()
            .enumerate()
            .map(|(i, d)| i64::from(*d) * (9 - i as i64))
            .sum::<i64>()
            - i64::from(digits[8]);
        if sum == 0 || sum % 11 != 0 {
            return Err("is not a valid BSN (fails the 11-check)".to_owned());
        }
        Ok(Bsn(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the subject is shown of it: `123456782` → `******782`.
pub fn mask(bsn: &str) -> String {
    let visible: String = bsn.chars().skip(bsn.len().saturating_sub(3)).collect();
    format!("{}{visible}", "*".repeat(bsn.len().saturating_sub(3)))
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_check() {
        assert!(Bsn::parse("123456782").is_ok());
        assert!(Bsn::parse("111222333").is_ok());
        assert!(Bsn::parse("123456789").is_err());
        assert!(Bsn::parse("12345678").is_err());
        assert!(Bsn::parse("1234567820").is_err());
        assert!(Bsn::parse("000000000").is_err());
        assert!(Bsn::parse("12345678a").is_err());
        assert!(!format!("{:?}", Bsn::parse("123456782").unwrap()).contains("1234"));
    }
}
