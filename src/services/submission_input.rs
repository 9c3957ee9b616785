//! The submission of a screening request as the API's body and the portal's form and upload
//! give it (the same field names everywhere), and the one validation they all go through.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::{
        CountryCode, PositionRole,
        subject::{EmployerInput, MAX_LIST, MAX_NAME, RefereeInput, SubjectInput, parse_date},
        text,
    },
    error::{AppError, AppResult, FieldError},
    schemas,
    services::submissions::NewRequest,
    validation::Fields,
};

#[derive(Deserialize, Serialize, ToSchema)]
#[schema(examples(json!({"profile": "child-contact-abroad", "reference": "VOL-2026-0042", "position": {"title": "Teaching assistant", "description": "Supports teachers at a primary school in Gulu.", "role": "volunteer"}, "deployment": {"country": "UG", "start_date": "2027-03-01"}, "subject": {"given_names": "Anna Maria", "family_name": "Jansen", "date_of_birth": "1998-06-14", "place_of_birth": "Utrecht", "country_of_birth": "NL", "nationalities": ["NL"], "email": "anna.jansen@example.org", "bsn": "123456782", "previous_employers": [{"organisation": "Stichting Jeugdwerk", "country": "NL", "from": "2021-09", "to": "2025-08", "contact_email": "hr@jeugdwerk.example"}], "referees": [{"name": "Ellen Visser", "email": "ellen.visser@example.org", "relationship": "Former manager"}]}})))]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// A screening profile code, e.g. `child-contact-abroad`.
    #[schema(schema_with = schemas::line::<64>)]
    pub profile: String,
    /// The organisation's own reference.
    #[schema(schema_with = schemas::line::<100>)]
    pub reference: String,
    pub position: PositionInput,
    pub deployment: DeploymentInput,
    pub subject: SubjectDto,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionInput {
    #[schema(schema_with = schemas::line::<200>)]
    pub title: String,
    #[schema(schema_with = schemas::optional_line::<2000>)]
    pub description: Option<String>,
    pub role: PositionRole,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentInput {
    #[schema(schema_with = schemas::deployment_country)]
    pub country: String,
    #[schema(schema_with = schemas::date)]
    pub start_date: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectDto {
    #[schema(schema_with = schemas::line::<MAX_NAME>)]
    pub given_names: String,
    #[schema(schema_with = schemas::line::<MAX_NAME>)]
    pub family_name: String,
    #[schema(schema_with = schemas::date_of_birth)]
    pub date_of_birth: String,
    #[schema(schema_with = schemas::line::<MAX_NAME>)]
    pub place_of_birth: String,
    #[schema(schema_with = schemas::country)]
    pub country_of_birth: String,
    #[schema(schema_with = schemas::nationalities)]
    pub nationalities: Vec<String>,
    #[schema(schema_with = schemas::email)]
    pub email: String,
    #[schema(schema_with = schemas::bsn)]
    pub bsn: Option<String>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub previous_employers: Vec<EmployerDto>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub referees: Vec<RefereeDto>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployerDto {
    #[schema(schema_with = schemas::line::<MAX_NAME>)]
    pub organisation: String,
    #[schema(schema_with = schemas::country)]
    pub country: String,
    #[schema(schema_with = schemas::month)]
    pub from: String,
    #[schema(schema_with = schemas::optional_month)]
    pub to: Option<String>,
    #[schema(schema_with = schemas::email)]
    pub contact_email: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefereeDto {
    #[schema(schema_with = schemas::line::<MAX_NAME>)]
    pub name: String,
    #[schema(schema_with = schemas::email)]
    pub email: String,
    #[schema(schema_with = schemas::line::<MAX_NAME>)]
    pub relationship: String,
}

impl SubmitRequest {
    pub fn validate(&self) -> AppResult<NewRequest> {
        let mut f = Fields::default();
        let profile = f.check("profile", text::required(&self.profile, 64));
        let reference = f.check("reference", text::required(&self.reference, 100));
        let title = f.check("position.title", text::required(&self.position.title, 200));
        let description = match &self.position.description {
            None => Some(None),
            Some(d) => f
                .check("position.description", text::required(d, 2000))
                .map(Some),
        };
        let country = f.check(
            "deployment.country",
            CountryCode::parse(&self.deployment.country).and_then(|c| {
                if c.is_eu_member() {
                    Err(format!(
                        "{c} is in the EU; safescreen screens for deployment outside the EU"
                    ))
                } else {
                    Ok(c)
                }
            }),
        );
        let start_date = f.check(
            "deployment.start_date",
            parse_date(&self.deployment.start_date),
        );
        let s = &self.subject;
        let subject = SubjectInput {
            given_names: &s.given_names,
            family_name: &s.family_name,
            date_of_birth: &s.date_of_birth,
            place_of_birth: &s.place_of_birth,
            country_of_birth: &s.country_of_birth,
            nationalities: &s.nationalities,
            email: &s.email,
            bsn: s.bsn.as_deref(),
            previous_employers: s
                .previous_employers
                .iter()
                .map(|e| EmployerInput {
                    organisation: &e.organisation,
                    country: &e.country,
                    from: &e.from,
                    to: e.to.as_deref(),
                    contact_email: &e.contact_email,
                })
                .collect(),
            referees: s
                .referees
                .iter()
                .map(|r| RefereeInput {
                    name: &r.name,
                    email: &r.email,
                    relationship: &r.relationship,
                })
                .collect(),
        }
        .validate("subject", &mut f);
        f.finish(|| {
            Some(NewRequest {
                profile: profile?,
                reference: reference?,
                position_title: title?,
                position_description: description?,
                role: self.position.role,
                deployment_country: country?,
                deployment_start_date: start_date?,
                subject: subject?,
            })
        })
    }
}

/// The submission's fields as one flat list of names, the form's and the CSV file's:
/// `position.title`, `subject.nationalities`, `subject.previous_employers[0].organisation`, …
/// The names are the API's field paths, so its errors name the form's fields.
pub const SCALAR_FIELDS: [&str; 14] = [
    "profile",
    "reference",
    "position.title",
    "position.description",
    "position.role",
    "deployment.country",
    "deployment.start_date",
    "subject.given_names",
    "subject.family_name",
    "subject.date_of_birth",
    "subject.place_of_birth",
    "subject.country_of_birth",
    "subject.email",
    "subject.bsn",
];
pub const NATIONALITIES: &str = "subject.nationalities";
pub const EMPLOYERS: &str = "subject.previous_employers";
pub const EMPLOYER_FIELDS: [&str; 5] = ["organisation", "country", "from", "to", "contact_email"];
pub const REFEREES: &str = "subject.referees";
pub const REFEREE_FIELDS: [&str; 3] = ["name", "email", "relationship"];
/// The fields that may be left blank (and out of a CSV file).
pub const OPTIONAL_FIELDS: [&str; 2] = ["position.description", "subject.bsn"];

/// `subject.previous_employers[2].from`
pub fn row_field(list: &str, index: usize, field: &str) -> String {
    format!("{list}[{index}].{field}")
}

/// Whether `name` is a field of the submission (a listed one up to the API's maximum).
pub fn is_field(name: &str) -> bool {
    if SCALAR_FIELDS.contains(&name) || name == NATIONALITIES {
        return true;
    }
    let row = |list: &str, fields: &[&str]| {
        (0..MAX_LIST).any(|i| fields.iter().any(|f| row_field(list, i, f) == name))
    };
    row(EMPLOYERS, &EMPLOYER_FIELDS) || row(REFEREES, &REFEREE_FIELDS)
}

/// A submission as flat named values. Blank values count as absent; employer and referee rows
/// left wholly blank are dropped and the rest numbered from 0, so an error's field path names
/// the row as it is shown again.
#[derive(Clone, Debug, Default)]
pub struct FlatSubmission {
    pub values: std::collections::BTreeMap<String, String>,
    pub nationalities: Vec<String>,
}

impl FlatSubmission {
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    pub fn set(&mut self, name: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            self.values.remove(name);
        } else {
            self.values.insert(name.to_owned(), value.to_owned());
        }
    }

    /// How many rows of `list` hold anything.
    pub fn rows(&self, list: &str) -> usize {
        let prefix = format!("{list}[");
        self.values
            .keys()
            .filter_map(|k| {
                k.strip_prefix(&prefix)?
                    .split(']')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .map(|i| i + 1)
            .max()
            .unwrap_or(0)
    }

    /// Drops blank rows and numbers the rest from 0.
    pub fn compact(&mut self) {
        for (list, fields) in [
            (EMPLOYERS, &EMPLOYER_FIELDS[..]),
            (REFEREES, &REFEREE_FIELDS[..]),
        ] {
            let rows = self.rows(list);
            let mut kept = Vec::new();
            for i in 0..rows {
                let row: Vec<(String, String)> = fields
                    .iter()
                    .filter_map(|f| {
                        self.values
                            .remove(&row_field(list, i, f))
                            .map(|v| ((*f).to_owned(), v))
                    })
                    .collect();
                if !row.is_empty() {
                    kept.push(row);
                }
            }
            for (i, row) in kept.into_iter().enumerate() {
                for (f, v) in row {
                    self.values.insert(row_field(list, i, &f), v);
                }
            }
        }
    }

    fn optional(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    /// The API's body for these values. A role that is not one the API knows is an error of
    /// its own (the API's parser would refuse it); the rest is left to [`SubmitRequest::validate`].
    pub fn to_request(&self) -> (SubmitRequest, Vec<FieldError>) {
        let mut problems = Vec::new();
        let role = match PositionRole::parse(self.get("position.role")) {
            Some(role) => role,
            None => {
                problems.push(FieldError::new(
                    "position.role",
                    "must be `volunteer` or `staff`",
                ));
                PositionRole::Volunteer
            }
        };
        let text = |name: &str| self.get(name).to_owned();
        let request = SubmitRequest {
            profile: text("profile"),
            reference: text("reference"),
            position: PositionInput {
                title: text("position.title"),
                description: self.optional("position.description"),
                role,
            },
            deployment: DeploymentInput {
                country: text("deployment.country"),
                start_date: text("deployment.start_date"),
            },
            subject: SubjectDto {
                given_names: text("subject.given_names"),
                family_name: text("subject.family_name"),
                date_of_birth: text("subject.date_of_birth"),
                place_of_birth: text("subject.place_of_birth"),
                country_of_birth: text("subject.country_of_birth"),
                nationalities: self.nationalities.clone(),
                email: text("subject.email"),
                bsn: self.optional("subject.bsn"),
                previous_employers: (0..self.rows(EMPLOYERS))
                    .map(|i| {
                        let field = |f: &str| self.get(&row_field(EMPLOYERS, i, f)).to_owned();
                        EmployerDto {
                            organisation: field("organisation"),
                            country: field("country"),
                            from: field("from"),
                            to: self.optional(&row_field(EMPLOYERS, i, "to")),
                            contact_email: field("contact_email"),
                        }
                    })
                    .collect(),
                referees: (0..self.rows(REFEREES))
                    .map(|i| {
                        let field = |f: &str| self.get(&row_field(REFEREES, i, f)).to_owned();
                        RefereeDto {
                            name: field("name"),
                            email: field("email"),
                            relationship: field("relationship"),
                        }
                    })
                    .collect(),
            },
        };
        (request, problems)
    }

    /// Validated as the API validates its body; every error at once.
    pub fn validate(&self) -> Result<(SubmitRequest, NewRequest), Vec<FieldError>> {
        let (request, mut problems) = self.to_request();
        match request.validate() {
            Ok(new) if problems.is_empty() => Ok((request, new)),
            Ok(_) => Err(problems),
            Err(AppError::Validation(list)) => {
                problems.extend(list);
                Err(problems)
            }
            Err(other) => {
                problems.push(FieldError::new("profile", other.to_string()));
                Err(problems)
            }
        }
    }
}

/// The idempotency record of a body: SHA-256 of its canonical JSON.
pub fn hash_of(request: &SubmitRequest) -> String {
    super::submissions::body_hash(&serde_json::to_value(request).unwrap_or_default())
}
