//! The state transitions, pure and without I/O: (status, event) to the next status, and what
//! follows a completed assessment or review. The checks DAG is in `checks`.
use crate::domain::RequestStatus;

/// Something that happened to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The subject consented.
    Consented,
    /// The subject declined.
    Declined,
    /// The subject withdrew the consent they had given, before a decision (GDPR Art. 7(3)).
    ConsentWithdrawn,
    /// The consent window closed unanswered (a timer).
    ConsentLapsed,
    /// The organisation withdrew the request.
    Withdrawn,
}

impl Event {
    /// The timeline entry and the webhook event it produces.
    pub fn kind(self) -> &'static str {
        match self {
            Event::Consented => "consented",
            Event::Declined => "declined",
            Event::ConsentWithdrawn => "consent_withdrawn",
            Event::ConsentLapsed => "lapsed",
            Event::Withdrawn => "withdrawn",
        }
    }

    /// The webhook the organisation is sent: a withdrawn consent is a decline to it (with the
    /// reason's category), whatever the subject wrote.
    pub fn webhook(self) -> &'static str {
        match self {
            Event::Consented => "screening_request.consented",
            Event::Declined | Event::ConsentWithdrawn => "screening_request.declined",
            Event::ConsentLapsed => "screening_request.lapsed",
            Event::Withdrawn => "screening_request.withdrawn",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{event:?} is not possible in status {from:?}")]
pub struct NotAllowed {
    pub from: RequestStatus,
    pub event: Event,
}

/// The next status, or why the event does not apply.
pub fn next(from: RequestStatus, event: Event) -> Result<RequestStatus, NotAllowed> {
    use RequestStatus::*;
    let to = match (from, event) {
        (AwaitingConsent, Event::Consented) => InProgress,
        (AwaitingConsent, Event::Declined) => Declined,
        (AwaitingConsent, Event::ConsentLapsed) => Lapsed,
        (InProgress | Assessment | IntentToRefuse | FinalReview, Event::ConsentWithdrawn) => {
            Declined
        }
        // Before a decision the organisation may withdraw; after one it may not.
        (
            AwaitingConsent | InProgress | Assessment | IntentToRefuse | FinalReview,
            Event::Withdrawn,
        ) => Withdrawn,
        _ => return Err(NotAllowed { from, event }),
    };
    Ok(to)
}

/// The kinds of task, with the outcomes each takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Check,
    Assessment,
    FourEyesReview,
    SupervisorReview,
    FinalReview,
    ObjectionReview,
}

impl TaskKind {
    pub const ALL: [TaskKind; 6] = [
        TaskKind::Check,
        TaskKind::Assessment,
        TaskKind::FourEyesReview,
        TaskKind::SupervisorReview,
        TaskKind::FinalReview,
        TaskKind::ObjectionReview,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TaskKind::Check => "check",
            TaskKind::Assessment => "assessment",
            TaskKind::FourEyesReview => "four_eyes_review",
            TaskKind::SupervisorReview => "supervisor_review",
            TaskKind::FinalReview => "final_review",
            TaskKind::ObjectionReview => "objection_review",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The outcomes a task of this kind can end with.
    pub fn outcomes(self) -> &'static [&'static str] {
        match self {
            TaskKind::Check => &["no_concerns", "concerns", "unable_to_verify"],
            TaskKind::Assessment | TaskKind::SupervisorReview | TaskKind::FinalReview => {
                &["clear", "refuse"]
            }
            TaskKind::FourEyesReview => &["concur", "dissent"],
            TaskKind::ObjectionReview => &["uphold", "overturn"],
        }
    }
}

/// What follows a completed assessment or review: the arrows of the decision in domain.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A second assessor reviews the proposal (not its author).
    OpenFourEyesReview,
    /// The reviewer dissented: a supervisor decides (neither assessor nor reviewer).
    OpenSupervisorReview,
    /// Cleared.
    Clear,
    /// The subject is told and may respond; a final review follows.
    IntendToRefuse,
    /// Refused (after the final review); the objection window opens.
    Refuse,
    /// An objection succeeded: cleared, revised.
    Overturn,
    /// An objection failed: the refusal stands.
    Uphold,
}

/// The step after a completed task of `kind` with `outcome` (checks are the DAG's business,
/// see `checks`). `proposal_clears`: for a four-eyes review, whether the assessment it reviews
/// proposed to clear. `None` for an outcome the kind does not have.
pub fn after_task(
    kind: TaskKind,
    outcome: &str,
    four_eyes: bool,
    proposal_clears: bool,
) -> Option<Step> {
    use Step::*;
    Some(match (kind, outcome) {
        (TaskKind::Assessment, "clear" | "refuse") if four_eyes => OpenFourEyesReview,
        (TaskKind::Assessment | TaskKind::SupervisorReview, "clear") => Clear,
        (TaskKind::Assessment | TaskKind::SupervisorReview, "refuse") => IntendToRefuse,
        (TaskKind::FourEyesReview, "concur") if proposal_clears => Clear,
        (TaskKind::FourEyesReview, "concur") => IntendToRefuse,
        (TaskKind::FourEyesReview, "dissent") => OpenSupervisorReview,
        (TaskKind::FinalReview, "clear") => Clear,
        (TaskKind::FinalReview, "refuse") => Refuse,
        (TaskKind::ObjectionReview, "overturn") => Overturn,
        (TaskKind::ObjectionReview, "uphold") => Uphold,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestStatus::*;

    #[test]
    fn every_arrow_of_the_decision() {
        use Step::*;
        use TaskKind::*;
        let cases = [
            (Assessment, "clear", true, false, Some(OpenFourEyesReview)),
            (Assessment, "refuse", true, false, Some(OpenFourEyesReview)),
            (Assessment, "clear", false, false, Some(Clear)),
            (Assessment, "refuse", false, false, Some(IntendToRefuse)),
            (FourEyesReview, "concur", true, true, Some(Clear)),
            (FourEyesReview, "concur", true, false, Some(IntendToRefuse)),
            (
                FourEyesReview,
                "dissent",
                true,
                true,
                Some(OpenSupervisorReview),
            ),
            (
                FourEyesReview,
                "dissent",
                true,
                false,
                Some(OpenSupervisorReview),
            ),
            (SupervisorReview, "clear", true, false, Some(Clear)),
            (
                SupervisorReview,
                "refuse",
                true,
                false,
                Some(IntendToRefuse),
            ),
            (FinalReview, "clear", true, false, Some(Clear)),
            (FinalReview, "refuse", true, false, Some(Refuse)),
            (ObjectionReview, "overturn", true, false, Some(Overturn)),
            (ObjectionReview, "uphold", true, false, Some(Uphold)),
            (Assessment, "concur", true, false, None),
            (FourEyesReview, "clear", true, false, None),
            (ObjectionReview, "refuse", true, false, None),
        ];
        for (kind, outcome, four_eyes, proposal_clears, expected) in cases {
            assert_eq!(
                after_task(kind, outcome, four_eyes, proposal_clears),
                expected,
                "{kind:?} {outcome}"
            );
        }
    }

    #[test]
    fn every_outcome_a_kind_accepts_leads_somewhere() {
        for kind in TaskKind::ALL.into_iter().filter(|k| *k != TaskKind::Check) {
            for outcome in kind.outcomes() {
                for four_eyes in [true, false] {
                    assert!(
                        after_task(kind, outcome, four_eyes, false).is_some(),
                        "{kind:?} {outcome}"
                    );
                }
            }
        }
    }

    #[test]
    fn consent_decline_and_lapse_only_while_awaiting_consent() {
        assert_eq!(next(AwaitingConsent, Event::Consented), Ok(InProgress));
        assert_eq!(next(AwaitingConsent, Event::Declined), Ok(Declined));
        assert_eq!(next(AwaitingConsent, Event::ConsentLapsed), Ok(Lapsed));
        for status in RequestStatus::ALL
            .into_iter()
            .filter(|s| *s != AwaitingConsent)
        {
            for event in [Event::Consented, Event::Declined, Event::ConsentLapsed] {
                assert!(next(status, event).is_err(), "{status:?} {event:?}");
            }
        }
    }

    #[test]
    fn consent_is_withdrawn_only_after_consent_and_before_a_decision() {
        for status in [InProgress, Assessment, IntentToRefuse, FinalReview] {
            assert_eq!(next(status, Event::ConsentWithdrawn), Ok(Declined));
        }
        for status in [
            AwaitingConsent,
            Cleared,
            Refused,
            ObjectionReview,
            Withdrawn,
            Declined,
            Lapsed,
        ] {
            assert!(next(status, Event::ConsentWithdrawn).is_err(), "{status:?}");
        }
        assert_eq!(
            Event::ConsentWithdrawn.webhook(),
            "screening_request.declined"
        );
    }

    #[test]
    fn withdrawal_only_before_a_decision() {
        for status in [
            AwaitingConsent,
            InProgress,
            Assessment,
            IntentToRefuse,
            FinalReview,
        ] {
            assert_eq!(next(status, Event::Withdrawn), Ok(Withdrawn));
        }
        for status in [
            Cleared,
            Refused,
            ObjectionReview,
            Withdrawn,
            Declined,
            Lapsed,
        ] {
            assert!(next(status, Event::Withdrawn).is_err(), "{status:?}");
        }
    }
}
