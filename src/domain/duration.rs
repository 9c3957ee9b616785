//! ISO 8601 durations (`P14D`, `PT2S`) as workflow definitions use them.
use std::fmt;

use jiff::{Span, SpanTotal, Unit};

/// A positive duration in weeks, days, hours, minutes and seconds. Years and months are refused:
/// their length depends on the date, and a deadline must not.
#[derive(Clone, PartialEq, Eq)]
pub struct IsoDuration {
    text: String,
    millis: i64,
}

impl IsoDuration {
    pub fn parse(text: &str) -> Result<Self, String> {
        // jiff also reads its friendly format ("14 days"); the definitions speak ISO 8601 only.
        if !text.starts_with('P') {
            return Err(format!(
                "{text:?} is not an ISO 8601 duration such as P14D or PT2S"
            ));
        }
        let span: Span = text
            .parse()
            .map_err(|_| format!("{text:?} is not an ISO 8601 duration such as P14D or PT2S"))?;
        if span.get_years() != 0 || span.get_months() != 0 {
            return Err(format!("{text:?}: use days or weeks, not years or months"));
        }
        if span.is_negative() || span.is_zero() {
            return Err(format!("{text:?} must be a positive duration"));
        }
        let millis = span
            .total(SpanTotal::from(Unit::Millisecond).days_are_24_hours())
            .map_err(|_| format!("{text:?} is out of range"))?;
        if !(1.0..=10.0 * 365.0 * 86_400_000.0).contains(&millis) {
            return Err(format!("{text:?} must be between 1 ms and 10 years"));
        }
        Ok(IsoDuration {
            text: text.to_owned(),
            millis: millis as i64,
        })
    }

    pub fn as_time(&self) -> time::Duration {
        time::Duration::milliseconds(self.millis)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoDuration({})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_positive_day_and_time_durations() {
        assert_eq!(
            IsoDuration::parse("P14D").unwrap().as_time(),
            time::Duration::days(14)
        );
        assert_eq!(
            IsoDuration::parse("PT2S").unwrap().as_time(),
            time::Duration::seconds(2)
        );
        assert_eq!(
            IsoDuration::parse("P1W").unwrap().as_time(),
            time::Duration::days(7)
        );
        assert_eq!(
            IsoDuration::parse("PT0.5S").unwrap().as_time(),
            time::Duration::milliseconds(500)
        );
        for bad in [
            "P-1D", "-P1D", "P0D", "PT0S", "P1M", "P1Y", "14 days", "", "P",
        ] {
            assert!(IsoDuration::parse(bad).is_err(), "{bad}");
        }
    }
}
