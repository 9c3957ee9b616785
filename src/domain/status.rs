//! The statuses of a screening request, and what the organisation may see of them.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The full status, as checkers, admins and the subject see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    AwaitingConsent,
    InProgress,
    Assessment,
    IntentToRefuse,
    FinalReview,
    ObjectionReview,
    Cleared,
    Refused,
    Withdrawn,
    Declined,
    Lapsed,
}

/// The organisation's view: intermediate stages of a decision are hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgStatus {
    AwaitingConsent,
    InProgress,
    Cleared,
    Refused,
    Withdrawn,
    Declined,
    Lapsed,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 11] = [
        RequestStatus::AwaitingConsent,
        RequestStatus::InProgress,
        RequestStatus::Assessment,
        RequestStatus::IntentToRefuse,
        RequestStatus::FinalReview,
        RequestStatus::ObjectionReview,
        RequestStatus::Cleared,
        RequestStatus::Refused,
        RequestStatus::Withdrawn,
        RequestStatus::Declined,
        RequestStatus::Lapsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::AwaitingConsent => "awaiting_consent",
            RequestStatus::InProgress => "in_progress",
            RequestStatus::Assessment => "assessment",
            RequestStatus::IntentToRefuse => "intent_to_refuse",
            RequestStatus::FinalReview => "final_review",
            RequestStatus::ObjectionReview => "objection_review",
            RequestStatus::Cleared => "cleared",
            RequestStatus::Refused => "refused",
            RequestStatus::Withdrawn => "withdrawn",
            RequestStatus::Declined => "declined",
            RequestStatus::Lapsed => "lapsed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// What the organisation sees: assessment, intent to refuse and final review are still
    /// "in progress"; an objection under review leaves the refusal standing.
    pub fn org_view(self) -> OrgStatus {
        match self {
            RequestStatus::AwaitingConsent => OrgStatus::AwaitingConsent,
            RequestStatus::InProgress
            | RequestStatus::Assessment
            | RequestStatus::IntentToRefuse
            | RequestStatus::FinalReview => OrgStatus::InProgress,
            RequestStatus::ObjectionReview | RequestStatus::Refused => OrgStatus::Refused,
            RequestStatus::Cleared => OrgStatus::Cleared,
            RequestStatus::Withdrawn => OrgStatus::Withdrawn,
            RequestStatus::Declined => OrgStatus::Declined,
            RequestStatus::Lapsed => OrgStatus::Lapsed,
        }
    }

    /// Ended without a decision.
    pub fn is_ended_undecided(self) -> bool {
        matches!(
            self,
            RequestStatus::Withdrawn | RequestStatus::Declined | RequestStatus::Lapsed
        )
    }

    pub fn is_decided(self) -> bool {
        matches!(
            self,
            RequestStatus::Cleared | RequestStatus::Refused | RequestStatus::ObjectionReview
        )
    }
}

impl OrgStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgStatus::AwaitingConsent => "awaiting_consent",
            OrgStatus::InProgress => "in_progress",
            OrgStatus::Cleared => "cleared",
            OrgStatus::Refused => "refused",
            OrgStatus::Withdrawn => "withdrawn",
            OrgStatus::Declined => "declined",
            OrgStatus::Lapsed => "lapsed",
        }
    }

    /// Every status of the organisation's view, in the order a request passes them.
    pub const ALL: [OrgStatus; 7] = [
        OrgStatus::AwaitingConsent,
        OrgStatus::InProgress,
        OrgStatus::Cleared,
        OrgStatus::Refused,
        OrgStatus::Withdrawn,
        OrgStatus::Declined,
        OrgStatus::Lapsed,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The full statuses this view covers.
    pub fn full_statuses(self) -> Vec<RequestStatus> {
        RequestStatus::ALL
            .into_iter()
            .filter(|s| s.org_view() == self)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organisation_never_sees_intermediate_stages() {
        assert_eq!(
            RequestStatus::IntentToRefuse.org_view(),
            OrgStatus::InProgress
        );
        assert_eq!(
            RequestStatus::ObjectionReview.org_view(),
            OrgStatus::Refused
        );
        assert!(OrgStatus::parse("intent_to_refuse").is_none());
        // The list of the view is exactly what the full statuses map to.
        let mapped: std::collections::BTreeSet<&str> = RequestStatus::ALL
            .into_iter()
            .map(|s| s.org_view().as_str())
            .collect();
        let listed: std::collections::BTreeSet<&str> =
            OrgStatus::ALL.into_iter().map(OrgStatus::as_str).collect();
        assert_eq!(mapped, listed);
        assert!(OrgStatus::parse("objection_review").is_none());
        assert_eq!(
            OrgStatus::InProgress.full_statuses(),
            [
                RequestStatus::InProgress,
                RequestStatus::Assessment,
                RequestStatus::IntentToRefuse,
                RequestStatus::FinalReview
            ]
        );
        for status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.as_str()), Some(status));
        }
    }
}
