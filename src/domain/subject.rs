//! The person screened: validated, and sealed as one value at rest.
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

pub use super::calendar::{parse_date, parse_month};
use super::{Bsn, CountryCode, Email, text};
use crate::validation::Fields;

/// Everything held about the subject. Serialised, then sealed under the data key with the
/// request's id; never stored in the clear.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Subject {
    pub given_names: String,
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    pub place_of_birth: String,
    pub country_of_birth: String,
    pub nationalities: Vec<String>,
    pub email: String,
    pub bsn: Option<String>,
    pub previous_employers: Vec<Employer>,
    pub referees: Vec<Referee>,
    /// What the subject wrote when declining (the organisation sees only the reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_message: Option<String>,
    /// The subject's response to an intention to refuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// The subject's objection to a refusal (one per request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objection: Option<String>,
}

#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Employer {
    pub organisation: String,
    pub country: String,
    /// `YYYY-MM`.
    pub from: String,
    pub to: Option<String>,
    pub contact_email: String,
}

#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Referee {
    pub name: String,
    pub email: String,
    pub relationship: String,
}

pub const MAX_NAME: usize = 200;
pub const MAX_LIST: usize = 10;
pub const MIN_AGE: i32 = 16;
pub const MAX_AGE: i32 = 100;

/// Whole years between two dates.
pub fn age_on(birth: Date, today: Date) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month() as u8, today.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age
}

/// The subject as submitted; checked field by field.
pub struct SubjectInput<'a> {
    pub given_names: &'a str,
    pub family_name: &'a str,
    pub date_of_birth: &'a str,
    pub place_of_birth: &'a str,
    pub country_of_birth: &'a str,
    pub nationalities: &'a [String],
    pub email: &'a str,
    pub bsn: Option<&'a str>,
    pub previous_employers: Vec<EmployerInput<'a>>,
    pub referees: Vec<RefereeInput<'a>>,
}

pub struct EmployerInput<'a> {
    pub organisation: &'a str,
    pub country: &'a str,
    pub from: &'a str,
    pub to: Option<&'a str>,
    pub contact_email: &'a str,
}

pub struct RefereeInput<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub relationship: &'a str,
}

impl SubjectInput<'_> {
    /// Validates into a [`Subject`], recording every error under `prefix`.
    pub fn validate(&self, prefix: &str, f: &mut Fields) -> Option<Subject> {
        let field = |name: &str| format!("{prefix}.{name}");
        let given_names = f.check(
            field("given_names"),
            text::required(self.given_names, MAX_NAME),
        );
        let family_name = f.check(
            field("family_name"),
            text::required(self.family_name, MAX_NAME),
        );
        let today = OffsetDateTime::now_utc().date();
        let date_of_birth = f.check(
            field("date_of_birth"),
            parse_date(self.date_of_birth).and_then(|d| {
                if d >= today {
                    Err("must be in the past".to_owned())
                } else if !(MIN_AGE..=MAX_AGE).contains(&age_on(d, today)) {
                    Err(format!(
                        "the subject must be {MIN_AGE} to {MAX_AGE} years old"
                    ))
                } else {
                    Ok(d)
                }
            }),
        );
        let place_of_birth = f.check(
            field("place_of_birth"),
            text::required(self.place_of_birth, MAX_NAME),
        );
        let country_of_birth = f.check(
            field("country_of_birth"),
            CountryCode::parse(self.country_of_birth),
        );
        if self.nationalities.is_empty() || self.nationalities.len() > MAX_LIST {
            f.error(
                field("nationalities"),
                format!("must name 1 to {MAX_LIST} countries"),
            );
        }
        let nationalities: Vec<Option<CountryCode>> = self
            .nationalities
            .iter()
            .take(MAX_LIST)
            .enumerate()
            .map(|(i, c)| {
                f.check(
                    format!("{prefix}.nationalities[{i}]"),
                    CountryCode::parse(c),
                )
            })
            .collect();
        let email = f.check(field("email"), Email::parse(self.email));
        let bsn = self.bsn.map(|b| f.check(field("bsn"), Bsn::parse(b)));
        if self.previous_employers.len() > MAX_LIST {
            f.error(field("previous_employers"), format!("at most {MAX_LIST}"));
        }
        if self.referees.len() > MAX_LIST {
            f.error(field("referees"), format!("at most {MAX_LIST}"));
        }
        let employers: Vec<Option<Employer>> = self
            .previous_employers
            .iter()
            .take(MAX_LIST)
            .enumerate()
            .map(|(i, e)| e.validate(&format!("{prefix}.previous_employers[{i}]"), f))
            .collect();
        let referees: Vec<Option<Referee>> = self
            .referees
            .iter()
            .take(MAX_LIST)
            .enumerate()
            .map(|(i, r)| r.validate(&format!("{prefix}.referees[{i}]"), f))
            .collect();
        Some(Subject {
            given_names: given_names?,
            family_name: family_name?,
            date_of_birth: date_of_birth?.to_string(),
            place_of_birth: place_of_birth?,
            country_of_birth: country_of_birth?.to_string(),
            nationalities: nationalities
                .into_iter()
                .map(|c| c.map(|c| c.to_string()))
                .collect::<Option<Vec<_>>>()?,
            email: email?.into_string(),
            bsn: match bsn {
                None => None,
                Some(b) => Some(b?.as_str().to_owned()),
            },
            previous_employers: employers.into_iter().collect::<Option<Vec<_>>>()?,
            referees: referees.into_iter().collect::<Option<Vec<_>>>()?,
            decline_message: None,
            statement: None,
            objection: None,
        })
    }
}

impl EmployerInput<'_> {
    fn validate(&self, prefix: &str, f: &mut Fields) -> Option<Employer> {
        let organisation = f.check(
            format!("{prefix}.organisation"),
            text::required(self.organisation, MAX_NAME),
        );
        let country = f.check(
            format!("{prefix}.country"),
            CountryCode::parse(self.country),
        );
        let from = f.check(format!("{prefix}.from"), parse_month(self.from));
        let to = self
            .to
            .map(|t| f.check(format!("{prefix}.to"), parse_month(t)));
        if let (Some(from), Some(Some(to))) = (from, to)
            && (to.0, to.1 as u8) < (from.0, from.1 as u8)
        {
            f.error(format!("{prefix}.to"), "must not be before `from`");
        }
        let contact_email = f.check(
            format!("{prefix}.contact_email"),
            Email::parse(self.contact_email),
        );
        Some(Employer {
            organisation: organisation?,
            country: country?.to_string(),
            from: from.map(|_| self.from.to_owned())?,
            to: match to {
                None => None,
                Some(t) => Some(t.map(|_| self.to.unwrap_or_default().to_owned())?),
            },
            contact_email: contact_email?.into_string(),
        })
    }
}

impl RefereeInput<'_> {
    fn validate(&self, prefix: &str, f: &mut Fields) -> Option<Referee> {
        let name = f.check(
            format!("{prefix}.name"),
            text::required(self.name, MAX_NAME),
        );
        let email = f.check(format!("{prefix}.email"), Email::parse(self.email));
        let relationship = f.check(
            format!("{prefix}.relationship"),
            text::required(self.relationship, MAX_NAME),
        );
        Some(Referee {
            name: name?,
            email: email?.into_string(),
            relationship: relationship?,
        })
    }
}

/// `jan@example.org` → `j***@example.org`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages() {
        assert!(parse_date("2026-02-31").is_err());
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("1990-4-12").is_err());
        let birth = parse_date("1990-04-12").unwrap();
        assert_eq!(age_on(birth, parse_date("2026-04-11").unwrap()), 35);
        assert_eq!(age_on(birth, parse_date("2026-04-12").unwrap()), 36);
        assert!(parse_month("2019-13").is_err());
        assert!(parse_month("2019-01").is_ok());
        assert_eq!(mask_email("jan@example.org"), "j***@example.org");
    }
}
