//! Organisations: created and suspended by the admin, seen by their members.
use std::collections::BTreeSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    audit,
    auth::Principal,
    db,
    domain::{CountryCode, Email, text},
    error::{AppError, AppResult, conflict_on_unique},
    pagination::PageRequest,
    services::AppState,
    validation::Fields,
};
use entity::organisation;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrganisationStatus {
    Active,
    Suspended,
}

impl OrganisationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrganisationStatus::Active => "active",
            OrganisationStatus::Suspended => "suspended",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(OrganisationStatus::Active),
            "suspended" => Some(OrganisationStatus::Suspended),
            _ => None,
        }
    }
}

const DUPLICATE_REGISTRATION: &str =
    "an organisation with this registration number in this country exists";

/// A validated new organisation: at least one non-EU country of operation.
pub struct NewOrganisation {
    pub name: String,
    pub registration_number: String,
    pub country: CountryCode,
    pub operating_countries: Vec<CountryCode>,
    pub contact_email: Email,
}

/// A new organisation as submitted (the API's JSON or the console's form), checked as a whole.
pub struct OrganisationInput<'a> {
    pub name: &'a str,
    pub registration_number: &'a str,
    pub country: &'a str,
    pub operating_countries: &'a [String],
    pub contact_email: &'a str,
}

impl OrganisationInput<'_> {
    /// Every field's errors at once, or the organisation to create.
    pub fn validate(self) -> AppResult<NewOrganisation> {
        let mut f = Fields::default();
        let name = f.check("name", text::required(self.name, 200));
        let registration_number = f.check(
            "registration_number",
            text::required(self.registration_number, 64),
        );
        let country = f.check("country", CountryCode::parse(self.country));
        let contact_email = f.check("contact_email", Email::parse(self.contact_email));
        let mut operating: BTreeSet<CountryCode> = BTreeSet::new();
        if self.operating_countries.is_empty() {
            f.error("operating_countries", "must name at least one country");
        }
        if self.operating_countries.len() > 250 {
            f.error("operating_countries", "must name at most 250 countries");
        }
        for (i, code) in self.operating_countries.iter().take(250).enumerate() {
            if let Some(code) = f.check(
                format!("operating_countries[{i}]"),
                CountryCode::parse(code),
            ) {
                operating.insert(code);
            }
        }
        if !operating.is_empty() && operating.iter().all(CountryCode::is_eu_member) {
            f.error(
                "operating_countries",
                "must contain at least one country outside the EU",
            );
        }
        f.finish(|| {
            Some(NewOrganisation {
                name: name?,
                registration_number: registration_number?,
                country: country?,
                operating_countries: operating.into_iter().collect(),
                contact_email: contact_email?,
            })
        })
    }
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    new: NewOrganisation,
) -> AppResult<organisation::Model> {
    let now = db::now();
    let countries: Vec<&str> = new
        .operating_countries
        .iter()
        .map(CountryCode::as_str)
        .collect();
    let txn = db::begin_write(&state.db_write).await?;
    let duplicate = organisation::Entity::find()
        .filter(organisation::Column::Country.eq(new.country.as_str()))
        .filter(organisation::Column::RegistrationNumber.eq(new.registration_number.as_str()))
        .one(&txn)
        .await?;
    if duplicate.is_some() {
        return Err(AppError::Conflict(DUPLICATE_REGISTRATION.into()));
    }
    let org = organisation::ActiveModel {
        id: Set(db::new_id()),
        name: Set(new.name),
        registration_number: Set(new.registration_number),
        country: Set(new.country.to_string()),
        operating_countries: Set(json!(countries)),
        contact_email: Set(new.contact_email.into_string()),
        status: Set(OrganisationStatus::Active.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(conflict_on_unique(DUPLICATE_REGISTRATION))?;
    audit::record(
        &txn,
        &principal.actor(),
        "organisation.created",
        audit::target("organisation", org.id),
        json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(org)
}

/// The admin sees every organisation; a member only their own.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    page: PageRequest,
) -> AppResult<Vec<organisation::Model>> {
    let mut query = organisation::Entity::find().order_by_asc(organisation::Column::Id);
    if !principal.is_admin() {
        let own = principal.organisation_id.ok_or(AppError::NotFound)?;
        query = query.filter(organisation::Column::Id.eq(own));
    }
    if let Some(after) = page.after {
        query = query.filter(organisation::Column::Id.gt(after));
    }
    Ok(query.limit(page.limit + 1).all(&state.db).await?)
}

/// Every organisation's name by id, by name, for staff pages that name and filter by
/// organisation.
pub async fn names(state: &AppState) -> AppResult<Vec<(Uuid, String)>> {
    named(state, None).await
}

/// The names of these organisations by id (the rows of one page).
pub async fn names_of(
    state: &AppState,
    ids: Vec<Uuid>,
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    Ok(named(state, Some(ids)).await?.into_iter().collect())
}

async fn named(state: &AppState, ids: Option<Vec<Uuid>>) -> AppResult<Vec<(Uuid, String)>> {
    let mut query = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .column(organisation::Column::Name)
        .order_by_asc(organisation::Column::Name);
    if let Some(ids) = ids {
        query = query.filter(organisation::Column::Id.is_in(ids));
    }
    Ok(query.into_tuple().all(&state.db).await?)
}

/// An organisation the caller may see, else 404.
pub async fn get(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> AppResult<organisation::Model> {
    visible(&state.db, principal, id).await
}

/// The organisation if it exists and the caller may see it (the admin, or its members), else
/// 404: another organisation's existence is never revealed.
pub async fn visible(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> AppResult<organisation::Model> {
    if !principal.can_see_organisation(id) {
        return Err(AppError::NotFound);
    }
    organisation::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn set_status(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    status: OrganisationStatus,
) -> AppResult<organisation::Model> {
    let txn = db::begin_write(&state.db_write).await?;
    let org = organisation::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if org.status == status.as_str() {
        return Ok(org);
    }
    let mut row = org.into_active_model();
    row.status = Set(status.as_str().to_owned());
    row.updated_at = Set(db::now());
    let org = row.update(&txn).await?;
    audit::record(
        &txn,
        &principal.actor(),
        "organisation.status_changed",
        audit::target("organisation", id),
        json!({"status": status.as_str()}),
    )
    .await?;
    txn.commit().await?;
    Ok(org)
}
