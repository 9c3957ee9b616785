//! The checks of a request as a directed acyclic graph: which apply to it, which can start,
//! and what follows once they are all done. Pure functions, no I/O: the command path asks
//! these and writes the tasks and the new status.
use std::collections::BTreeMap;

use super::definition::{Definition, When};
use crate::domain::{CountryCode, PositionRole};

/// What a definition's `when` conditions look at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub role: PositionRole,
    pub deployment_country: CountryCode,
    pub profile: &'a str,
}

/// How a checker ended a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    NoConcerns,
    Concerns,
    UnableToVerify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    /// Waiting for the checks it comes after.
    Pending,
    /// A task for it is open.
    Running,
    Done(CheckOutcome),
    /// Its `when` does not hold for this request; counts as done for the checks after it.
    Skipped,
}

impl CheckState {
    fn finished(self) -> bool {
        matches!(self, CheckState::Done(_) | CheckState::Skipped)
    }
}

/// Each check's state, by check id.
pub type CheckStates = BTreeMap<String, CheckState>;

/// Where the checks stand.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// These pending checks can start now (their predecessors are finished); may be empty
    /// while others are still running.
    Start(Vec<String>),
    /// Every check is done or skipped: on to [`after_checks`].
    Finished,
}

/// What follows the checks.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterChecks {
    /// `auto_clear` and every check that ran found no concerns: cleared, no human decision.
    Cleared,
    /// A human assessment decides.
    Assessment,
}

impl When {
    /// Whether every condition holds for the request (an absent condition holds).
    pub fn holds(&self, facts: &Facts) -> bool {
        self.role
            .as_ref()
            .is_none_or(|roles| roles.contains(&facts.role))
            && self
                .deployment_country
                .as_ref()
                .is_none_or(|countries| countries.contains(&facts.deployment_country))
            && self
                .deployment_country_not
                .as_ref()
                .is_none_or(|countries| !countries.contains(&facts.deployment_country))
            && self
                .profile
                .as_ref()
                .is_none_or(|profiles| profiles.iter().any(|p| p == facts.profile))
    }
}

/// The states at consent: skipped where `when` does not hold, pending elsewhere.
pub fn initial_states(definition: &Definition, facts: &Facts) -> CheckStates {
    definition
        .checks
        .iter()
        .map(|check| {
            let state = if check.when.holds(facts) {
                CheckState::Pending
            } else {
                CheckState::Skipped
            };
            (check.id.clone(), state)
        })
        .collect()
}

/// Which pending checks can start now, in definition order, or whether all are finished.
pub fn progress(definition: &Definition, states: &CheckStates) -> Progress {
    let state = |id: &str| states.get(id).copied().unwrap_or(CheckState::Pending);
    if definition.checks.iter().all(|c| state(&c.id).finished()) {
        return Progress::Finished;
    }
    Progress::Start(
        definition
            .checks
            .iter()
            .filter(|c| state(&c.id) == CheckState::Pending)
            .filter(|c| c.after.iter().all(|before| state(before).finished()))
            .map(|c| c.id.clone())
            .collect(),
    )
}

/// Once every check is finished: cleared at once, or assessment.
pub fn after_checks(definition: &Definition, states: &CheckStates) -> AfterChecks {
    let all_clear = states.values().all(|s| {
        matches!(
            s,
            CheckState::Skipped | CheckState::Done(CheckOutcome::NoConcerns)
        )
    });
    if definition.auto_clear && all_clear {
        AfterChecks::Cleared
    } else {
        AfterChecks::Assessment
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::engine::definition;

    fn child_contact() -> Definition {
        let doc: Value = serde_json::from_str(migration::CHILD_CONTACT).unwrap();
        definition::parse(&doc).unwrap()
    }

    fn facts(role: PositionRole) -> Facts<'static> {
        Facts {
            role,
            deployment_country: CountryCode::parse("UG").unwrap(),
            profile: "child-contact-abroad",
        }
    }

    fn start(ids: &[&str]) -> Progress {
        Progress::Start(ids.iter().map(|s| s.to_string()).collect())
    }

    /// Marks `ids` running, as the command path does when it creates their tasks.
    fn run(states: &mut CheckStates, ids: &[&str]) {
        for id in ids {
            states.insert(id.to_string(), CheckState::Running);
        }
    }

    fn finish(states: &mut CheckStates, id: &str, outcome: CheckOutcome) {
        states.insert(id.to_string(), CheckState::Done(outcome));
    }

    #[test]
    fn a_volunteer_skips_misconduct_and_runs_the_rest_after_identity_in_parallel() {
        let definition = child_contact();
        let mut states = initial_states(&definition, &facts(PositionRole::Volunteer));
        assert_eq!(states["misconduct"], CheckState::Skipped);
        assert_eq!(progress(&definition, &states), start(&["identity"]));
        run(&mut states, &["identity"]);
        assert_eq!(progress(&definition, &states), start(&[]));
        finish(&mut states, "identity", CheckOutcome::NoConcerns);
        assert_eq!(
            progress(&definition, &states),
            start(&["criminal_record", "reference"])
        );
        run(&mut states, &["criminal_record", "reference"]);
        finish(&mut states, "reference", CheckOutcome::NoConcerns);
        assert_eq!(progress(&definition, &states), start(&[]));
        finish(&mut states, "criminal_record", CheckOutcome::NoConcerns);
        assert_eq!(progress(&definition, &states), Progress::Finished);
        assert_eq!(after_checks(&definition, &states), AfterChecks::Cleared);
    }

    #[test]
    fn staff_also_get_the_misconduct_check() {
        let definition = child_contact();
        let mut states = initial_states(&definition, &facts(PositionRole::Staff));
        assert_eq!(states["misconduct"], CheckState::Pending);
        run(&mut states, &["identity"]);
        finish(&mut states, "identity", CheckOutcome::NoConcerns);
        assert_eq!(
            progress(&definition, &states),
            start(&["criminal_record", "misconduct", "reference"])
        );
    }

    #[test]
    fn any_concern_or_unverifiable_check_goes_to_assessment() {
        let definition = child_contact();
        for outcome in [CheckOutcome::Concerns, CheckOutcome::UnableToVerify] {
            let mut states = initial_states(&definition, &facts(PositionRole::Volunteer));
            finish(&mut states, "identity", CheckOutcome::NoConcerns);
            finish(&mut states, "criminal_record", outcome);
            finish(&mut states, "reference", CheckOutcome::NoConcerns);
            assert_eq!(progress(&definition, &states), Progress::Finished);
            assert_eq!(after_checks(&definition, &states), AfterChecks::Assessment);
        }
    }

    #[test]
    fn without_auto_clear_even_a_clean_record_is_assessed() {
        let mut doc: Value = serde_json::from_str(migration::CHILD_CONTACT).unwrap();
        doc["auto_clear"] = json!(false);
        let definition = definition::parse(&doc).unwrap();
        let mut states = initial_states(&definition, &facts(PositionRole::Volunteer));
        for id in ["identity", "criminal_record", "reference"] {
            finish(&mut states, id, CheckOutcome::NoConcerns);
        }
        assert_eq!(after_checks(&definition, &states), AfterChecks::Assessment);
    }

    #[test]
    fn a_check_after_two_others_waits_for_both_and_a_skipped_one_counts_as_done() {
        let mut doc: Value = serde_json::from_str(migration::CHILD_CONTACT).unwrap();
        doc["checks"] = json!([
            {"id": "a", "authorisation": "identity", "sla": "P1D"},
            {"id": "b", "authorisation": "reference", "sla": "P1D",
             "when": {"deployment_country_not": ["UG"]}},
            {"id": "c", "authorisation": "criminal_record", "sla": "P1D"},
            {"id": "d", "authorisation": "criminal_record", "sla": "P1D", "after": ["a", "c"]},
            {"id": "e", "authorisation": "reference", "sla": "P1D", "after": ["b"]}
        ]);
        let definition = definition::parse(&doc).unwrap();
        let mut states = initial_states(&definition, &facts(PositionRole::Volunteer));
        assert_eq!(states["b"], CheckState::Skipped, "deployed to UG");
        // `e` comes after the skipped `b` only: it starts with the roots.
        assert_eq!(progress(&definition, &states), start(&["a", "c", "e"]));
        run(&mut states, &["a", "c", "e"]);
        finish(&mut states, "a", CheckOutcome::NoConcerns);
        assert_eq!(
            progress(&definition, &states),
            start(&[]),
            "d still waits for c"
        );
        finish(&mut states, "c", CheckOutcome::NoConcerns);
        assert_eq!(progress(&definition, &states), start(&["d"]));
    }

    #[test]
    fn when_conditions_combine_and_absent_ones_hold() {
        let uganda = facts(PositionRole::Staff);
        let everyone = When::default();
        assert!(everyone.holds(&uganda));
        let staff_in_kenya = When {
            role: Some(vec![PositionRole::Staff]),
            deployment_country: Some(vec![CountryCode::parse("KE").unwrap()]),
            ..When::default()
        };
        assert!(!staff_in_kenya.holds(&uganda));
        let other_profile = When {
            profile: Some(vec!["general-abroad".into()]),
            ..When::default()
        };
        assert!(!other_profile.holds(&uganda));
    }
}
