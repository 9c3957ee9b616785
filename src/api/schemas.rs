//! Schemas of request fields that say exactly what the validators in `domain` accept, so an
//! integrator (or a fuzzer) that follows the document sends only what the service takes, and
//! whatever the document rules out is refused. Used as `#[schema(schema_with = …)]`.
use utoipa::openapi::{
    Object, ObjectBuilder, RefOr, Schema,
    schema::{ArrayBuilder, SchemaFormat, SchemaType, Type},
};

use crate::{
    domain::{country::EU_MEMBER_STATES, email::Email, subject::MAX_LIST},
    engine::{routing, tasks::TaskKind},
    outbox::webhooks::EVENT_TYPES,
};

/// A character of one line: anything but a control character (`char::is_control`).
const LINE_CHAR: &str = r"[^\x00-\x1F\x7F-\x9F]";
/// A character of several lines: line breaks and tabs too.
const TEXT_CHAR: &str = r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]";
/// A character that is neither a control character nor white space (`char::is_whitespace`):
/// what makes a text more than blank.
const VISIBLE_CHAR: &str =
    r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

/// One line (`text::required`) or several (`text::multiline`).
#[derive(Clone, Copy)]
enum Lines {
    One,
    Several,
}

/// Up to `max` characters, something besides blanks, and no control characters but line
/// breaks and tabs in a text of several lines; surrounding blanks are trimmed.
fn free_text(builder: ObjectBuilder, lines: Lines, max: usize) -> Object {
    let (chars, what) = match lines {
        Lines::One => (LINE_CHAR, "One line"),
        Lines::Several => (TEXT_CHAR, "Text (line breaks and tabs allowed)"),
    };
    builder
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!("^{chars}*{VISIBLE_CHAR}{chars}*$")))
        .description(Some(format!(
            "{what}, up to {max} characters, not blank; surrounding blanks are trimmed."
        )))
        .build()
}

/// One line of text, `text::required`.
pub fn line<const MAX: usize>() -> Object {
    free_text(string(), Lines::One, MAX)
}

/// The same, or null.
pub fn optional_line<const MAX: usize>() -> Object {
    free_text(nullable_string(), Lines::One, MAX)
}

/// A text of several lines, `text::multiline`.
pub fn text<const MAX: usize>() -> Object {
    free_text(string(), Lines::Several, MAX)
}

/// The same, or null.
pub fn optional_text<const MAX: usize>() -> Object {
    free_text(nullable_string(), Lines::Several, MAX)
}

/// An optional text where blank means none (a decline's message).
pub fn optional_text_or_blank<const MAX: usize>() -> Object {
    nullable_string()
        .max_length(Some(MAX))
        .pattern(Some(format!("^{TEXT_CHAR}*$")))
        .description(Some(format!(
            "Text, up to {MAX} characters; line breaks and tabs allowed; blank means none."
        )))
        .build()
}

fn email_in(builder: ObjectBuilder) -> Object {
    builder
        .format(Some(SchemaFormat::Custom("email".into())))
        .max_length(Some(Email::MAX_LEN))
        .description(Some("An e-mail address with a full domain."))
        .build()
}

/// An e-mail address we can deliver to: `Email::parse`.
pub fn email() -> Object {
    email_in(string())
}

fn assigned_countries() -> impl Iterator<Item = String> {
    let mut codes: Vec<String> = celes::Country::get_countries()
        .iter()
        .map(|c| c.alpha2.to_owned())
        .collect();
    codes.sort();
    codes.dedup();
    codes.into_iter()
}

/// A country: an assigned ISO 3166-1 alpha-2 code, `CountryCode::parse`.
pub fn country() -> Object {
    string()
        .enum_values(Some(assigned_countries()))
        .description(Some("ISO 3166-1 alpha-2, upper case."))
        .build()
}

fn countries(max: usize, description: &str) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(country())
        .min_items(Some(1))
        .max_items(Some(max))
        .description(Some(description))
        .build()
        .into()
}

/// Countries a subject holds a nationality of.
pub fn nationalities() -> RefOr<Schema> {
    countries(MAX_LIST, "ISO 3166-1 alpha-2 codes, 1 to 10.")
}

/// Where an organisation deploys people.
pub fn operating_countries() -> RefOr<Schema> {
    countries(
        250,
        "ISO 3166-1 alpha-2 codes, at least one of them outside the EU.",
    )
}

/// A country of deployment: outside the European Union.
pub fn deployment_country() -> Object {
    string()
        .enum_values(Some(
            assigned_countries().filter(|c| !EU_MEMBER_STATES.contains(&c.as_str())),
        ))
        .description(Some("ISO 3166-1 alpha-2, upper case, outside the EU."))
        .build()
}

fn date_described(description: &str) -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Date,
        )))
        .description(Some(description))
        .build()
}

/// A calendar date, `YYYY-MM-DD`.
pub fn date() -> Object {
    date_described("`YYYY-MM-DD`")
}

/// The subject's date of birth: a past date, 16 to 100 years ago (checked on submission).
pub fn date_of_birth() -> Object {
    date_described("`YYYY-MM-DD`; the subject is 16 to 100 years old.")
}

fn month_in(builder: ObjectBuilder) -> Object {
    builder
        .pattern(Some("^[0-9]{4}-(0[1-9]|1[0-2])$"))
        .description(Some("`YYYY-MM`"))
        .build()
}

/// A month, `YYYY-MM`.
pub fn month() -> Object {
    month_in(string())
}

/// The same, or null.
pub fn optional_month() -> Object {
    month_in(nullable_string())
}

/// A Dutch citizen service number, `Bsn::parse`.
pub fn bsn() -> Object {
    nullable_string()
        .pattern(Some("^[0-9]{9}$"))
        .description(Some("Nine digits passing the 11-check."))
        .build()
}

/// A list's `next_cursor`, as `pagination::decode_cursor` accepts it.
pub fn cursor() -> Object {
    string()
        .pattern(Some(r"^[A-Za-z0-9_-]{21}[AQgw]$"))
        .description(Some("The `next_cursor` of the previous page."))
        .build()
}

fn one_of(values: impl IntoIterator<Item = &'static str>, description: &str) -> Object {
    string()
        .enum_values(Some(values))
        .description(Some(description))
        .build()
}

/// A task's status, as `GET /v1/tasks` filters by it.
pub fn task_status() -> Object {
    one_of(
        [
            routing::UNASSIGNED,
            routing::ASSIGNED,
            routing::COMPLETED,
            routing::CANCELLED,
        ],
        "The task's status.",
    )
}

/// A kind of task.
pub fn task_kind() -> Object {
    one_of(TaskKind::ALL.map(TaskKind::as_str), "The kind of task.")
}

/// Every outcome of some kind of task; which ones a task takes depends on its kind.
pub fn task_outcome() -> Object {
    let mut outcomes: Vec<&'static str> = TaskKind::ALL
        .iter()
        .flat_map(|k| k.outcomes().iter().copied())
        .collect();
    outcomes.dedup();
    one_of(
        outcomes,
        "check: `no_concerns`, `concerns`, `unable_to_verify`; assessment, supervisor_review, \
         final_review: `clear`, `refuse`; four_eyes_review: `concur`, `dissent`; \
         objection_review: `uphold`, `overturn`. Another kind's outcome answers 422.",
    )
}

/// A consent, which can only be given: to refuse, the subject declines.
pub fn consent() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .description(Some("Must be `true`; to refuse, decline."))
        .build()
}

/// The events a webhook endpoint subscribes to: at least one type, or `*` for all.
pub fn webhook_events() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(one_of(
            std::iter::once("*").chain(EVENT_TYPES),
            "An event type, or `*` for all.",
        ))
        .min_items(Some(1))
        .description(Some("Event types, or `[\"*\"]` for all."))
        .build()
        .into()
}

/// A webhook target: an https URL naming a host (not an address: literal addresses are
/// checked against the private ranges, and names are resolved when delivering).
pub fn webhook_url() -> Object {
    string()
        .format(Some(SchemaFormat::Custom("uri".into())))
        .max_length(Some(2000))
        .pattern(Some(
            r"^https://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(:[0-9]{1,4})?(/([A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?$",
        ))
        .description(Some(
            "An https URL on the public internet; a private, loopback, link-local or metadata \
             target is refused (422), now and at every delivery.",
        ))
        .examples(["https://hr.example.org/hooks/safescreen"])
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text;

    /// The document's patterns take exactly what `text::required` and `text::multiline` take
    /// (the length aside, which `maxLength` states).
    #[test]
    fn text_patterns_agree_with_the_validators() {
        let samples = [
            "",
            " ",
            "\u{a0}",
            "\u{3000}",
            "a",
            " a ",
            "a b",
            "é",
            "日本",
            "\u{feff}",
            "a\n",
            "\na",
            "a\nb",
            "a\r\nb",
            "\ta",
            "a\tb",
            "a\u{85}b",
            "a\u{7}b",
            "a\u{0}",
            "\u{1f600}",
            " \n ",
            "\u{2028}",
            "x\u{2028}y",
        ];
        type Validator = fn(&str, usize) -> Result<String, String>;
        let cases: [(Lines, Validator); 2] = [
            (Lines::One, text::required),
            (Lines::Several, text::multiline),
        ];
        for (lines, validator) in cases {
            let schema = free_text(string(), lines, 100);
            let pattern = regex::Regex::new(schema.pattern.as_deref().unwrap()).unwrap();
            for sample in samples {
                assert_eq!(
                    pattern.is_match(sample),
                    validator(sample, 100).is_ok(),
                    "{sample:?}"
                );
            }
        }
    }
}
