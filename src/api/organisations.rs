//! Organisations.
use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::TAG_ORGANISATIONS;
use crate::schemas;
use crate::{
    auth::Principal,
    db,
    error::AppResult,
    extract::{AppJson, AppPath, AppQuery},
    pagination::{Page, PageParams},
    services::AppState,
    services::organisations::{self, NewOrganisation, OrganisationInput, OrganisationStatus},
};
use entity::organisation;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_organisation, list_organisations))
        .routes(routes!(get_organisation, update_organisation))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"name": "Kinderhulp Oeganda", "registration_number": "KVK 12345678", "country": "UG", "operating_countries": ["UG", "KE"], "contact_email": "office@kinderhulp.example"})))]
#[serde(deny_unknown_fields)]
pub struct CreateOrganisation {
    #[schema(schema_with = schemas::line::<200>)]
    pub name: String,
    #[schema(schema_with = schemas::line::<64>)]
    pub registration_number: String,
    /// Country of registration.
    #[schema(schema_with = schemas::country)]
    pub country: String,
    /// Where the organisation deploys people; at least one country outside the EU.
    #[schema(schema_with = schemas::operating_countries)]
    pub operating_countries: Vec<String>,
    #[schema(schema_with = schemas::email)]
    pub contact_email: String,
}

impl CreateOrganisation {
    fn validate(&self) -> AppResult<NewOrganisation> {
        OrganisationInput {
            name: &self.name,
            registration_number: &self.registration_number,
            country: &self.country,
            operating_countries: &self.operating_countries,
            contact_email: &self.contact_email,
        }
        .validate()
    }
}

#[derive(Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationStatusDto {
    Active,
    Suspended,
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"status": "suspended"})))]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganisation {
    /// A suspended organisation cannot submit screening requests.
    pub status: OrganisationStatusDto,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OrganisationDto {
    pub id: Uuid,
    pub name: String,
    pub registration_number: String,
    pub country: String,
    pub operating_countries: Vec<String>,
    pub contact_email: String,
    pub status: OrganisationStatusDto,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<organisation::Model> for OrganisationDto {
    fn from(org: organisation::Model) -> Self {
        OrganisationDto {
            id: org.id,
            name: org.name,
            registration_number: org.registration_number,
            country: org.country,
            operating_countries: serde_json::from_value(org.operating_countries)
                .unwrap_or_default(),
            contact_email: org.contact_email,
            status: if org.status == OrganisationStatus::Suspended.as_str() {
                OrganisationStatusDto::Suspended
            } else {
                OrganisationStatusDto::Active
            },
            created_at: db::utc(org.created_at),
        }
    }
}

/// Onboards an organisation.
#[utoipa::path(post, path = "/v1/organisations", tag = TAG_ORGANISATIONS, request_body = CreateOrganisation,
    responses((status = 201, description = "Created", body = OrganisationDto)))]
async fn create_organisation(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(body): AppJson<CreateOrganisation>,
) -> AppResult<(StatusCode, Json<OrganisationDto>)> {
    let org = organisations::create(&state, &principal, body.validate()?).await?;
    Ok((StatusCode::CREATED, Json(org.into())))
}

/// Lists organisations: all for the admin, the caller's own for its members.
#[utoipa::path(get, path = "/v1/organisations", tag = TAG_ORGANISATIONS, params(PageParams),
    responses((status = 200, description = "A page of organisations", body = Page<OrganisationDto>)))]
async fn list_organisations(
    State(state): State<AppState>,
    principal: Principal,
    AppQuery(params): AppQuery<PageParams>,
) -> AppResult<Json<Page<OrganisationDto>>> {
    let page = params.page_request()?;
    let rows = organisations::list(&state, &principal, page).await?;
    Ok(Json(Page::from_rows(
        rows,
        page,
        |o| o.id,
        OrganisationDto::from,
    )))
}

/// One organisation.
#[utoipa::path(get, path = "/v1/organisations/{id}", tag = TAG_ORGANISATIONS,
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses((status = 200, description = "The organisation", body = OrganisationDto)))]
async fn get_organisation(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Json<OrganisationDto>> {
    Ok(Json(
        organisations::get(&state, &principal, id).await?.into(),
    ))
}

/// Suspends or reactivates an organisation.
#[utoipa::path(patch, path = "/v1/organisations/{id}", tag = TAG_ORGANISATIONS, request_body = UpdateOrganisation,
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses((status = 200, description = "The organisation", body = OrganisationDto)))]
async fn update_organisation(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateOrganisation>,
) -> AppResult<Json<OrganisationDto>> {
    let status = match body.status {
        OrganisationStatusDto::Active => OrganisationStatus::Active,
        OrganisationStatusDto::Suspended => OrganisationStatus::Suspended,
    };
    Ok(Json(
        organisations::set_status(&state, &principal, id, status)
            .await?
            .into(),
    ))
}
