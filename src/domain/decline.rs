//! Why a subject declines a screening.
/// Why a subject declines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclineReason {
    DataIncorrect,
    NotConsenting,
    Other,
    /// Set only by a withdrawal of consent, never chosen in a decline.
    ConsentWithdrawn,
}

impl DeclineReason {
    pub const ALL: [DeclineReason; 4] = [
        DeclineReason::DataIncorrect,
        DeclineReason::NotConsenting,
        DeclineReason::Other,
        DeclineReason::ConsentWithdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::DataIncorrect => "data_incorrect",
            DeclineReason::NotConsenting => "not_consenting",
            DeclineReason::Other => "other",
            DeclineReason::ConsentWithdrawn => "consent_withdrawn",
        }
    }
}
