//! The role a screened person will have.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PositionRole {
    Volunteer,
    Staff,
}

impl PositionRole {
    pub const ALL: [PositionRole; 2] = [PositionRole::Volunteer, PositionRole::Staff];

    pub fn as_str(self) -> &'static str {
        match self {
            PositionRole::Volunteer => "volunteer",
            PositionRole::Staff => "staff",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}
