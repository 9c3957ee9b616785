//! Dates, months and timestamps as the API takes them: each rule checked here and written into
//! the OpenAPI document by its pattern (a test holds the two together). The patterns give the
//! shape; whether the day exists (31 February) is the `format` the document also states.
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const YEAR: &str = "[0-9]{4}";
const MONTH: &str = "(0[1-9]|1[0-2])";
const DAY: &str = "(0[1-9]|[12][0-9]|3[01])";
const CLOCK: &str = "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]";
const OFFSET: &str = "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";

/// `YYYY-MM-DD`.
pub fn date_pattern() -> String {
    format!("^{YEAR}-{MONTH}-{DAY}$")
}

/// `YYYY-MM`.
pub fn month_pattern() -> String {
    format!("^{YEAR}-{MONTH}$")
}

/// RFC 3339's `date-time`, without leap seconds: `2026-12-02T09:30:00Z`, `…T09:30:00.5+01:00`.
pub fn timestamp_pattern() -> String {
    format!("^{YEAR}-{MONTH}-{DAY}[Tt]{CLOCK}(\\.[0-9]+)?{OFFSET}$")
}

/// A calendar date in `YYYY-MM-DD`, refusing dates that do not exist (31 February).
pub fn parse_date(text: &str) -> Result<Date, String> {
    let bad = || format!("{text} is not a real date (YYYY-MM-DD)");
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err("must be a date as YYYY-MM-DD".to_owned());
    }
    let year = digits(&text[0..4]).ok_or_else(bad)?;
    let month = digits(&text[5..7]).ok_or_else(bad)?;
    let day = digits(&text[8..10]).ok_or_else(bad)?;
    let month = Month::try_from(month as u8).map_err(|_| bad())?;
    Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| bad())
}

/// A month in `YYYY-MM`.
pub fn parse_month(text: &str) -> Result<(i32, Month), String> {
    let bad = || format!("{text} is not a month as YYYY-MM");
    let b = text.as_bytes();
    if b.len() != 7 || b[4] != b'-' {
        return Err(bad());
    }
    let year = digits(&text[0..4]).ok_or_else(bad)?;
    let month = digits(&text[5..7]).ok_or_else(bad)?;
    Ok((
        year as i32,
        Month::try_from(month as u8).map_err(|_| bad())?,
    ))
}

/// An RFC 3339 timestamp (leap seconds aside), in UTC.
pub fn parse_timestamp(text: &str) -> Result<PrimitiveDateTime, String> {
    let bad = || format!("{text} is not an RFC 3339 timestamp (YYYY-MM-DDTHH:MM:SSZ)");
    if !text.is_ascii() || text.len() < 20 {
        return Err(bad());
    }
    let date = parse_date(&text[..10]).map_err(|_| bad())?;
    let b = text.as_bytes();
    if !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let field = |range: std::ops::Range<usize>, max: u32| {
        digits(&text[range]).filter(|n| *n <= max).ok_or_else(bad)
    };
    let (hour, minute, second) = (field(11..13, 23)?, field(14..16, 59)?, field(17..19, 59)?);
    let mut rest = &text[19..];
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return Err(bad());
        }
        // Beyond nanoseconds the digits are kept by no clock; they are read and dropped.
        let kept = &fraction[..len.min(9)];
        nanos = digits(kept).ok_or_else(bad)? * 10u32.pow(9 - kept.len() as u32);
        rest = &fraction[len..];
    }
    let at = text.len() - rest.len();
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = field(at + 1..at + 3, 23)? as i8;
            let minutes = field(at + 4..at + 6, 59)? as i8;
            let sign = if *sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    let time =
        Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).map_err(|_| bad())?;
    let utc = OffsetDateTime::new_in_offset(date, time, offset).to_offset(UtcOffset::UTC);
    Ok(PrimitiveDateTime::new(utc.date(), utc.time()))
}

/// `date` plus whole months, the day clamped to the target month's length (31 Jan + 1 → 28/29 Feb).
pub fn add_months(date: time::Date, months: i32) -> time::Date {
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = time::Month::try_from(u8::try_from(month0 + 1).unwrap_or(1))
        .unwrap_or(time::Month::January);
    let day = date.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day).unwrap_or(date)
}

/// ASCII digits only (no sign, no blanks), as a number.
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::add_months;

    #[test]
    fn months_are_added_with_the_day_clamped() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 11 - 29), 36), date!(2029 - 11 - 29));
        assert_eq!(add_months(date!(2026 - 12 - 15), 1), date!(2027 - 01 - 15));
    }
}
