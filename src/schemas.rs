//! The document's vocabulary, shared by the two adapters it describes (`api/` and the subject
//! page in `web/`): schemas of request fields that say exactly what the validators in `domain`
//! accept, so an integrator (or a fuzzer) that follows the document sends only what the
//! service takes, and whatever the document rules out is refused (`#[schema(schema_with =
//! …)]`); the tag they share; the decline reasons both take.
use utoipa::openapi::{
    Object, ObjectBuilder, RefOr, Schema,
    schema::{ArrayBuilder, SchemaFormat, SchemaType, Type},
};

use crate::{
    domain::{
        DeclineReason, bsn, calendar, country::EU_MEMBER_STATES, email::Email, subject::MAX_LIST,
        webhook_url,
    },
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

/// The subject's operations, as JSON and as the page's forms.
pub const TAG_SUBJECT: &str = "subject";

// Why a subject declines, as both the API and the page's form take it (a plain comment: the
// document describes the enum by its values alone, as before).
#[derive(Clone, Copy, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReasonDto {
    DataIncorrect,
    NotConsenting,
    Other,
}

impl From<DeclineReasonDto> for DeclineReason {
    fn from(reason: DeclineReasonDto) -> Self {
        match reason {
            DeclineReasonDto::DataIncorrect => DeclineReason::DataIncorrect,
            DeclineReasonDto::NotConsenting => DeclineReason::NotConsenting,
            DeclineReasonDto::Other => DeclineReason::Other,
        }
    }
}

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
        .max_length(Some(Email::MAX_LEN))
        .pattern(Some(Email::pattern()))
        .description(Some(
            "An e-mail address: a local part of letters, digits, dots and \
             ``!#$%&'*+/=?^_`{|}~-`` (up to 64), `@`, and a full domain name (letters, digits \
             and hyphens; an international name in punycode).",
        ))
        .examples(["jan@example.org"])
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
        .pattern(Some(calendar::date_pattern()))
        .description(Some(description))
        .build()
}

/// An instant, RFC 3339 (`2026-12-02T09:30:00Z`), as the list filters take it.
pub fn timestamp() -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::DateTime,
        )))
        .pattern(Some(calendar::timestamp_pattern()))
        .description(Some("RFC 3339, e.g. `2026-12-02T09:30:00Z`."))
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
        .pattern(Some(calendar::month_pattern()))
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
        .pattern(Some(bsn::PATTERN))
        .description(Some("Nine digits passing the 11-check."))
        .build()
}

/// A list's `next_cursor`, as `pagination::decode_cursor` accepts it.
pub use crate::pagination::cursor_schema as cursor;

fn second_factor_code_in(builder: ObjectBuilder) -> Object {
    builder
        .pattern(Some(
            r"^[ -]*([0-9][ -]*){6}$|^[ -]*([a-km-np-zA-KM-NP-Z2-9][ -]*){24}$",
        ))
        .description(Some(
            "The 6 digits of the authenticator app (TOTP), or a recovery code (24 letters and \
             digits; spaces and hyphens are ignored).",
        ))
        .build()
}

/// A second factor's code, `factors::parse_code`, or null.
pub fn second_factor_code() -> Object {
    second_factor_code_in(nullable_string())
}

/// The same, required.
pub fn second_factor_code_required() -> Object {
    second_factor_code_in(string())
}

/// The `Idempotency-Key` header, `idempotency_key::parse`.
pub fn idempotency_key() -> Object {
    string()
        .pattern(Some(crate::domain::idempotency_key::PATTERN))
        .description(Some("1 to 255 visible ASCII characters."))
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
    let mut outcomes: Vec<&'static str> = Vec::new();
    for outcome in TaskKind::ALL.iter().flat_map(|k| k.outcomes().iter()) {
        if !outcomes.contains(outcome) {
            outcomes.push(outcome);
        }
    }
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

/// A webhook target, `webhook_url::parse`.
pub fn webhook_url() -> Object {
    string()
        .format(Some(SchemaFormat::Custom("uri".into())))
        .max_length(Some(webhook_url::MAX_LEN))
        .pattern(Some(webhook_url::pattern()))
        .description(Some(
            "An https URL naming a host on the public internet (a DNS name: letters, digits, \
             hyphens, labels of at most 63 characters, 253 in all; an international name in \
             punycode; no IP address), an optional port 1–65535, a path and a query; no \
             credentials, no fragment. A name that resolves to a private, loopback, link-local \
             or metadata address is refused (422), now and at every delivery.",
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

    /// A schema's pattern, compiled as JSON Schema reads it (ECMA-262, lookaheads included).
    fn pattern_of(schema: &Object) -> fancy_regex::Regex {
        fancy_regex::Regex::new(schema.pattern.as_deref().expect("a pattern")).unwrap()
    }

    /// Whether the document takes `sample`: its pattern and its `maxLength`.
    fn document_takes(schema: &Object, sample: &str) -> bool {
        pattern_of(schema).is_match(sample).unwrap()
            && schema
                .max_length
                .is_none_or(|max| sample.chars().count() <= max)
    }

    /// Holds the document against a validator: every sample is taken by both or by neither.
    fn agree(schema: &Object, samples: &[String], valid: impl Fn(&str) -> bool) {
        for sample in samples {
            assert_eq!(
                document_takes(schema, sample),
                valid(sample),
                "the document and the validator disagree on {sample:?}"
            );
        }
    }

    fn owned(samples: &[&str]) -> Vec<String> {
        samples.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn webhook_url_pattern_agrees_with_the_validator() {
        let label63 = "a".repeat(63);
        let label64 = "a".repeat(64);
        // 253 and 254 characters: three labels of 63 and one of 61 or 62.
        let name253 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        let name254 = format!("{label63}.{label63}.{label63}.{}", "b".repeat(62));
        assert_eq!((name253.len(), name254.len()), (253, 254));
        let mut samples = owned(&[
            "https://hooks.example.org",
            "https://hooks.example.org/",
            "https://hooks.example.org/x?a=b&c=%20d",
            "https://HOOKS.Example.ORG/Hook",
            "https://a.b.c.example.org:8443/p/q",
            "https://xn--bcher-kva.example/hook",
            "https://h.org?x=1",
            "https://h.org:1/",
            "https://h.org:65535/",
            "https://a-b.c--d.org/",
            "https://0.h.org/",
            "https://h.org/a:b@c!$&'()*+,;=~-._",
            "https://h.org/%41%c3%a9",
            "https://h.org/x?y?z=/",
            "http://hooks.example.org/x",
            "HTTPS://hooks.example.org/x",
            "ftp://hooks.example.org/x",
            "hooks.example.org/x",
            "https://",
            "https:///x",
            "https://127.0.0.1/x",
            "https://hooks.example.org/x",
            "https://[::1]/x",
            "https://[2606:4700::1111]/x",
            "https://localhost/x",
            "https://hooks/x",
            "https://hooks.example.org/a%zz",
            "https://hooks.example.org/a%4",
            "https://hooks.example.org/a b",
            "https://hooks.example.org/[x]",
            "https://hooks.example.org/é",
            "https://bücher.example/x",
            "https://a_b.example.org/",
            "https://hooks.example.org./",
            "https://.example.org/",
            "https://a..example.org/",
            "https://-a.example.org/",
            "https://a-.example.org/",
            "https://a.1org/",
            "https://a.org-/",
            "https://h.org:0/",
            "https://h.org:65536/",
            "https://h.org:99999/",
            "https://h.org:/",
            "https://h.org:08/",
            "https://h.org:443:443/",
            "https://h.org:-1/",
            "https://u:p@h.org/",
            "https://u@h.org/",
            "https://h.org/#frag",
            "https://h.org/x#",
            "https://h.org/x\n",
            "https://h.org\\x",
            "",
        ]);
        for c in ["*", "!", "$", "'", "(", ")", "+", ",", ";", "=", "%41", "~"] {
            samples.push(format!("https://a{c}b.example.org/"));
            samples.push(format!("https://92c1.d2.info{c}"));
        }
        for name in [&label63, &label64, &name253, &name254] {
            samples.push(format!("https://{name}.org/"));
            samples.push(format!("https://{name}/x"));
            samples.push(format!("https://{name}:8443/x"));
        }
        samples.push(format!("https://h.org/{}", "a".repeat(1981)));
        samples.push(format!("https://h.org/{}", "a".repeat(1982)));
        let schema = webhook_url();
        agree(&schema, &samples, |s| {
            crate::domain::webhook_url::parse(s, false).is_ok()
        });
        // What the tests and development setups rely on, and the rule still refuses there.
        for taken in [
            "http://127.0.0.1:8080/x",
            "https://localhost/x",
            "http://receiver:9000/x",
            "https://[::1]:9/x",
            "https://hooks.example.org/x",
        ] {
            assert!(
                crate::domain::webhook_url::parse(taken, true).is_ok(),
                "{taken}"
            );
        }
        for refused in [
            "http://[::1/x",
            "http://[zz::1]/x",
            "http://[::1]x/",
            "http://u@127.0.0.1/",
            "http://h*.org/",
            "ftp://127.0.0.1/",
        ] {
            assert!(
                crate::domain::webhook_url::parse(refused, true).is_err(),
                "{refused}"
            );
        }
        assert_eq!(
            crate::domain::webhook_url::parse("https://Hooks.Example.ORG:8443/Path?Q=A", false)
                .unwrap()
                .as_str(),
            "https://hooks.example.org:8443/Path?Q=A"
        );
    }

    #[test]
    fn email_pattern_agrees_with_the_validator() {
        let mut samples = owned(&[
            "jan@example.org",
            "Jan.de.Vries@Example.ORG",
            "a+tag@x.co",
            "o'brien@example.ie",
            "x@xn--bcher-kva.example",
            "!#$%&'*+/=?^_`{|}~-@example.org",
            "jan@mail.a-b.example.org",
            "",
            "jan",
            "jan@",
            "@example.org",
            "jan@localhost",
            "jan@example.org.",
            "jan@.example.org",
            ".jan@example.org",
            "jan.@example.org",
            "ja..n@example.org",
            "jan@@example.org",
            "jan@a@example.org",
            "jan@exa mple.org",
            " jan@example.org",
            "jan@example.org ",
            "\"jan\"@example.org",
            "jan@[192.0.2.1]",
            "jan@192.0.2.1",
            "jän@example.org",
            "jan@bücher.de",
            "Jan <jan@example.org>",
            "jan@a_b.org",
            "jan@-a.org",
            "jan@a-.org",
            "jan@example.1org",
            "jan(comment)@example.org",
            "jan@example.org\n",
            "ja\nn@example.org",
        ]);
        samples.push(format!("{}@example.org", "a".repeat(64)));
        samples.push(format!("{}@example.org", "a".repeat(65)));
        samples.push(format!("jan@{}.org", "a".repeat(63)));
        samples.push(format!("jan@{}.org", "a".repeat(64)));
        // 254 and 255 characters in all.
        let long_domain = |n: usize| {
            format!(
                "{}.{}.{}.{}",
                "a".repeat(63),
                "b".repeat(63),
                "c".repeat(63),
                "d".repeat(n)
            )
        };
        samples.push(format!("jan@{}", long_domain(58)));
        samples.push(format!("jan@{}", long_domain(59)));
        agree(&email(), &samples, |s| Email::parse(s).is_ok());
    }

    #[test]
    fn date_month_and_timestamp_patterns_agree_with_the_validators() {
        // `format: date` and `date-time` also say the day exists; the patterns give the shape.
        let exists = |s: &str| {
            let (y, m, d) = (&s[0..4], &s[5..7], &s[8..10]);
            time::Month::try_from(m.parse::<u8>().unwrap())
                .and_then(|m| {
                    time::Date::from_calendar_date(y.parse().unwrap(), m, d.parse().unwrap())
                })
                .is_ok()
        };
        let dates = owned(&[
            "2024-02-29",
            "0000-01-01",
            "9999-12-31",
            "2026-12-02",
            "2026-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-01-32",
            "2026-1-01",
            "2026-01-1",
            "2026-W01-1",
            "+2026-01-01",
            "+026-01-01",
            "20260101",
            "2026-001",
            "2026-01-01T00:00:00Z",
            " 2026-01-01",
            "2026-01-01\n",
            "2026/01/01",
            "２０２６-01-01",
            "",
        ]);
        let schema = date();
        for sample in &dates {
            assert_eq!(
                document_takes(&schema, sample) && exists(sample),
                crate::domain::calendar::parse_date(sample).is_ok(),
                "{sample:?}"
            );
        }
        let months = owned(&[
            "2026-01",
            "0000-12",
            "2026-13",
            "2026-00",
            "+202-01",
            "2026-+1",
            "2026-1",
            "202-01",
            "2026/01",
            "2026-01-01",
            " 2026-01",
            "2026-01\n",
            "",
        ]);
        agree(&month(), &months, |s| {
            crate::domain::calendar::parse_month(s).is_ok()
        });
        let timestamps = owned(&[
            "2026-12-02T09:30:00Z",
            "2026-12-02t09:30:00z",
            "2026-12-02T09:30:00.5Z",
            "2026-12-02T09:30:00.123456789012+01:00",
            "2026-12-02T23:59:59-23:59",
            "2024-02-29T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "2026-12-02T24:00:00Z",
            "2026-12-02T09:60:00Z",
            "2026-12-02T09:30:60Z",
            "2026-12-02T09:30Z",
            "2026-12-02 09:30:00Z",
            "2026-12-02T09:30:00",
            "2026-12-02T09:30:00+0100",
            "2026-12-02T09:30:00+01",
            "2026-12-02T09:30:00+24:00",
            "2026-12-02T09:30:00+01:60",
            "2026-12-02T09:30:00.Z",
            "2026-12-02T09:30:00.5",
            "2026-02-30T00:00:00Z",
            "2026-12-02T9:30:00Z",
            "2026-12-02T09:30:00Zz",
            "2026-12-02T09:30:00Z\n",
            "2026-12-02",
            "",
        ]);
        let schema = timestamp();
        for sample in &timestamps {
            assert_eq!(
                document_takes(&schema, sample) && exists(sample),
                crate::domain::calendar::parse_timestamp(sample).is_ok(),
                "{sample:?}"
            );
        }
        assert_eq!(
            crate::domain::calendar::parse_timestamp("2026-12-02T00:30:00.5+01:00").unwrap(),
            time::macros::datetime!(2026-12-01 23:30:00.5)
        );
    }

    #[test]
    fn bsn_pattern_agrees_with_the_validator() {
        // The pattern gives the shape; the 11-check is said in words beside it.
        let eleven = |s: &str| {
            let d: Vec<i64> = s.bytes().map(|b| i64::from(b - b'0')).collect();
            let sum: i64 = (0..8).map(|i| d[i] * (9 - i as i64)).sum::<i64>() - d[8];
            sum != 0 && sum % 11 == 0
        };
        let samples = owned(&[
            "123456782",
            "111222333",
            "123456789",
            "000000000",
            "12345678",
            "1234567820",
            "12345678a",
            " 12345678",
            "12345678 ",
            "１２３４５６７８２",
            "123456782\n",
            "",
        ]);
        let schema = bsn();
        for sample in &samples {
            assert_eq!(
                document_takes(&schema, sample) && eleven(sample),
                crate::domain::Bsn::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn country_enums_agree_with_the_validator() {
        let listed = |schema: &Object, s: &str| {
            schema
                .enum_values
                .as_ref()
                .unwrap()
                .iter()
                .any(|v| v.as_str() == Some(s))
        };
        let (any, deployment) = (country(), deployment_country());
        let mut samples: Vec<String> = (b'A'..=b'Z')
            .flat_map(|a| (b'A'..=b'Z').map(move |b| String::from_utf8(vec![a, b]).unwrap()))
            .collect();
        samples.extend(owned(&[
            "nl", "Nl", "NLD", "N", "", " NL", "NL ", "EU", "UK", "XK",
        ]));
        for sample in &samples {
            let parsed = crate::domain::CountryCode::parse(sample);
            assert_eq!(listed(&any, sample), parsed.is_ok(), "{sample:?}");
            assert_eq!(
                listed(&deployment, sample),
                parsed.is_ok_and(|c| !c.is_eu_member()),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn cursor_pattern_agrees_with_the_decoder() {
        use crate::pagination::{decode_cursor, encode_cursor};
        let mut samples: Vec<String> = (0..50)
            .map(|_| encode_cursor(uuid::Uuid::new_v4()))
            .collect();
        // Every last character after the same 21: only those with four zero bits decode.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        samples.extend(
            alphabet
                .chars()
                .map(|c| format!("AZ09-_AZ09-_AZ09-_AZ0{c}")),
        );
        samples.extend(owned(&[
            "",
            "AAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "AAAAAAAAAAAAAAAAAAAA+A",
            "AAAAAAAAAAAAAAAAAAAA/A",
            "AAAAAAAAAAAAAAAAAAAAA\n",
            " AAAAAAAAAAAAAAAAAAAAA",
        ]));
        agree(&cursor(), &samples, |s| decode_cursor(s).is_some());
    }

    #[test]
    fn idempotency_key_pattern_agrees_with_the_validator() {
        use crate::domain::idempotency_key;
        let schema = super::idempotency_key();
        let mut samples: Vec<String> = (0u8..=255).map(|b| (b as char).to_string()).collect();
        samples.extend(owned(&["", " a", "a b", "a\tb", "é", "key-1_2.3:4/5"]));
        samples.push("x".repeat(255));
        samples.push("x".repeat(256));
        agree(&schema, &samples, |s| idempotency_key::parse(s).is_ok());
    }

    #[test]
    fn second_factor_code_pattern_agrees_with_the_parser() {
        let samples = owned(&[
            "123456",
            " 123 456 ",
            "123-456",
            "-123456-",
            "12345",
            "1234567",
            "12345a",
            "123456\n",
            "\t123456",
            "abcd-efgh-ijkm-npqr-stuv-wxyz",
            "ABCD EFGH IJKM NPQR STUV WXYZ",
            "abcdefghijkmnpqrstuvwxyz",
            "abcdefghijkmnpqrstuvwxy",
            "abcdefghijkmnpqrstuvwxyzz",
            "abcdefghijklnpqrstuvwxyz",
            "abcdefghijkmnpqrstuvwxy0",
            "abcdefghijkmnpqrstuvwxy1",
            "abcdefghijkmnpqrstuvwxyo",
            "abcdefghij\u{212a}mnpqrstuvwxyz",
            "",
            " ",
        ]);
        agree(&second_factor_code_required(), &samples, |s| {
            crate::services::factors::parse_code(s).is_ok()
        });
    }
}
