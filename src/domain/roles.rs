//! Roles of users, and the authorisations a checker can hold.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    OrgAdmin,
    OrgRequester,
    Checker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::OrgAdmin => "org_admin",
            Role::OrgRequester => "org_requester",
            Role::Checker => "checker",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Role::Admin,
            Role::OrgAdmin,
            Role::OrgRequester,
            Role::Checker,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// The roles an organisation's users can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    OrgAdmin,
    OrgRequester,
}

impl OrgRole {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "org_admin" => Some(OrgRole::OrgAdmin),
            "org_requester" => Some(OrgRole::OrgRequester),
            _ => None,
        }
    }
}

impl From<OrgRole> for Role {
    fn from(role: OrgRole) -> Self {
        match role {
            OrgRole::OrgAdmin => Role::OrgAdmin,
            OrgRole::OrgRequester => Role::OrgRequester,
        }
    }
}

/// What a checker may check.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Authorisation {
    Identity,
    CriminalRecord,
    MisconductDisclosure,
    Reference,
    Assessment,
}

impl Authorisation {
    pub const ALL: [Authorisation; 5] = [
        Authorisation::Identity,
        Authorisation::CriminalRecord,
        Authorisation::MisconductDisclosure,
        Authorisation::Reference,
        Authorisation::Assessment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Authorisation::Identity => "identity",
            Authorisation::CriminalRecord => "criminal_record",
            Authorisation::MisconductDisclosure => "misconduct_disclosure",
            Authorisation::Reference => "reference",
            Authorisation::Assessment => "assessment",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }
}
