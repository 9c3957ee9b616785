//! The submission of a screening request as the API's body and the portal's form and upload
//! give it (the same field names everywhere), and the one validation they all go through.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::{
        CountryCode, PositionRole,
        subject::{EmployerInput, MAX_NAME, RefereeInput, SubjectInput, parse_date},
        text,
    },
    error::AppResult,
    schemas,
    services::submissions::NewRequest,
    validation::Fields,
};

#[derive(Deserialize, Serialize, ToSchema)]
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

