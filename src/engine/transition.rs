//! The state transition: a pure function of (status, event) to the next status, with no I/O.
use crate::domain::RequestStatus;

/// Something that happened to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The subject consented.
    Consented,
    /// The subject declined.
    Declined,
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
            Event::ConsentLapsed => "lapsed",
            Event::Withdrawn => "withdrawn",
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
        // Before a decision the organisation may withdraw; after one it may not.
        (
            AwaitingConsent | InProgress | Assessment | IntentToRefuse | FinalReview,
            Event::Withdrawn,
        ) => Withdrawn,
        _ => return Err(NotAllowed { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestStatus::*;

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
