//! Workflow definitions: parsed from JSON and validated, reporting every error at once.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    domain::{Authorisation, CountryCode, IsoDuration, PositionRole},
    error::FieldError,
};

/// A validated definition.
#[derive(Debug, Clone)]
pub struct Definition {
    pub key: String,
    pub title: String,
    pub consent_window: IsoDuration,
    pub checks: Vec<Check>,
    pub auto_clear: bool,
    pub assessment: Stage,
    pub four_eyes: bool,
    pub response_window: IsoDuration,
    pub final_review: Stage,
    pub objection_window: IsoDuration,
    pub objection_review: Stage,
    pub decision_deadline: IsoDuration,
    pub routing: RoutingStrategy,
    pub on_overdue: OnOverdue,
    /// The definition as stored: the input with every default filled in.
    pub document: Value,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub authorisation: Authorisation,
    pub sla: IsoDuration,
    pub after: Vec<String>,
    pub when: When,
}

/// Conditions on the request; a check whose conditions do not hold is skipped.
#[derive(Debug, Clone, Default)]
pub struct When {
    pub role: Option<Vec<PositionRole>>,
    pub deployment_country: Option<Vec<CountryCode>>,
    pub deployment_country_not: Option<Vec<CountryCode>>,
    pub profile: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub authorisation: Authorisation,
    pub sla: IsoDuration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingStrategy {
    LeastLoaded,
    RoundRobin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOverdue {
    NotifySupervisors,
    Reassign,
}

// The raw document: strings where the value is checked afterwards, so one pass can report
// every bad value rather than stopping at the first.
#[derive(Serialize, Deserialize)]
struct RawDefinition {
    key: String,
    title: String,
    consent_window: String,
    checks: Vec<RawCheck>,
    #[serde(default = "yes")]
    auto_clear: bool,
    #[serde(default = "default_assessment")]
    assessment: RawAssessment,
    #[serde(default = "default_response_window")]
    response_window: String,
    #[serde(default = "default_review")]
    final_review: RawStage,
    #[serde(default = "default_objection_window")]
    objection_window: String,
    #[serde(default = "default_objection_review")]
    objection_review: RawStage,
    decision_deadline: String,
    #[serde(default = "default_routing")]
    routing: RawRouting,
    #[serde(default = "default_escalation")]
    escalation: RawEscalation,
}

#[derive(Serialize, Deserialize)]
struct RawCheck {
    id: String,
    authorisation: String,
    sla: String,
    #[serde(default)]
    after: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    when: Option<RawWhen>,
}

#[derive(Serialize, Deserialize)]
struct RawWhen {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployment_country: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deployment_country_not: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct RawAssessment {
    authorisation: String,
    sla: String,
    #[serde(default = "yes")]
    four_eyes: bool,
}

#[derive(Serialize, Deserialize)]
struct RawStage {
    authorisation: String,
    sla: String,
}

#[derive(Serialize, Deserialize)]
struct RawRouting {
    strategy: String,
}

#[derive(Serialize, Deserialize)]
struct RawEscalation {
    on_overdue: String,
}

fn yes() -> bool {
    true
}
fn default_assessment() -> RawAssessment {
    RawAssessment {
        authorisation: "assessment".into(),
        sla: "P5D".into(),
        four_eyes: true,
    }
}
fn default_response_window() -> String {
    "P14D".into()
}
fn default_review() -> RawStage {
    RawStage {
        authorisation: "assessment".into(),
        sla: "P5D".into(),
    }
}
fn default_objection_window() -> String {
    "P42D".into()
}
fn default_objection_review() -> RawStage {
    RawStage {
        authorisation: "assessment".into(),
        sla: "P14D".into(),
    }
}
fn default_routing() -> RawRouting {
    RawRouting {
        strategy: "least_loaded".into(),
    }
}
fn default_escalation() -> RawEscalation {
    RawEscalation {
        on_overdue: "notify_supervisors".into(),
    }
}

const TOP_FIELDS: &[&str] = &[
    "key",
    "title",
    "consent_window",
    "checks",
    "auto_clear",
    "assessment",
    "response_window",
    "final_review",
    "objection_window",
    "objection_review",
    "decision_deadline",
    "routing",
    "escalation",
];
const CHECK_FIELDS: &[&str] = &["id", "authorisation", "sla", "after", "when"];
const WHEN_ATTRIBUTES: &[&str] = &[
    "role",
    "deployment_country",
    "deployment_country_not",
    "profile",
];
const ASSESSMENT_FIELDS: &[&str] = &["authorisation", "sla", "four_eyes"];
const STAGE_FIELDS: &[&str] = &["authorisation", "sla"];

/// Every key not in `allowed`, as a field error.
fn unknown_keys(
    value: &Value,
    path: &str,
    allowed: &[&str],
    what: &str,
    errors: &mut Vec<FieldError>,
) {
    if let Value::Object(map) = value {
        for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
            let field = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            errors.push(FieldError::new(field, format!("unknown {what} `{key}`")));
        }
    }
}

fn unknown_fields(doc: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    unknown_keys(doc, "", TOP_FIELDS, "field", &mut errors);
    if let Some(checks) = doc.get("checks").and_then(Value::as_array) {
        for (i, check) in checks.iter().enumerate() {
            let path = format!("checks[{i}]");
            unknown_keys(check, &path, CHECK_FIELDS, "field", &mut errors);
            if let Some(when) = check.get("when") {
                unknown_keys(
                    when,
                    &format!("{path}.when"),
                    WHEN_ATTRIBUTES,
                    "attribute",
                    &mut errors,
                );
            }
        }
    }
    for (field, allowed) in [
        ("assessment", ASSESSMENT_FIELDS),
        ("final_review", STAGE_FIELDS),
        ("objection_review", STAGE_FIELDS),
        ("routing", &["strategy"][..]),
        ("escalation", &["on_overdue"][..]),
    ] {
        if let Some(value) = doc.get(field) {
            unknown_keys(value, field, allowed, "field", &mut errors);
        }
    }
    errors
}

/// Parses and validates a definition, reporting every error it finds.
pub fn parse(doc: &Value) -> Result<Definition, Vec<FieldError>> {
    if !doc.is_object() {
        return Err(vec![FieldError::new(
            "body",
            "a workflow definition is a JSON object",
        )]);
    }
    let mut errors = unknown_fields(doc);
    let raw: RawDefinition = match serde_path_to_error::deserialize(doc) {
        Ok(raw) => raw,
        Err(err) => {
            let path = err.path().to_string();
            errors.push(FieldError::new(
                if path == "." { "body".into() } else { path },
                err.into_inner().to_string(),
            ));
            return Err(errors);
        }
    };
    let mut v = Checker { errors };
    let definition = v.definition(&raw);
    if v.errors.is_empty()
        && let Some(mut definition) = definition
    {
        definition.document = serde_json::to_value(&raw).unwrap_or_default();
        return Ok(definition);
    }
    Err(v.errors)
}

struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn check<T>(&mut self, field: impl Into<String>, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|m| self.errors.push(FieldError::new(field, m)))
            .ok()
    }

    fn duration(&mut self, field: &str, text: &str) -> Option<IsoDuration> {
        self.check(field, IsoDuration::parse(text))
    }

    fn authorisation(&mut self, field: &str, text: &str) -> Option<Authorisation> {
        self.check(
            field,
            Authorisation::parse(text).ok_or_else(|| format!("unknown authorisation `{text}`")),
        )
    }

    fn stage(&mut self, field: &str, raw: &RawStage) -> Option<Stage> {
        let authorisation =
            self.authorisation(&format!("{field}.authorisation"), &raw.authorisation);
        let sla = self.duration(&format!("{field}.sla"), &raw.sla);
        Some(Stage {
            authorisation: authorisation?,
            sla: sla?,
        })
    }

    fn countries(
        &mut self,
        field: &str,
        codes: &Option<Vec<String>>,
    ) -> Option<Option<Vec<CountryCode>>> {
        let Some(codes) = codes else {
            return Some(None);
        };
        let parsed: Vec<Option<CountryCode>> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| self.check(format!("{field}[{i}]"), CountryCode::parse(c)))
            .collect();
        parsed.into_iter().collect::<Option<Vec<_>>>().map(Some)
    }

    fn when(&mut self, field: &str, raw: &Option<RawWhen>) -> Option<When> {
        let Some(raw) = raw else {
            return Some(When::default());
        };
        let role = match &raw.role {
            None => Some(None),
            Some(roles) => roles
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    self.check(
                        format!("{field}.role[{i}]"),
                        PositionRole::parse(r)
                            .ok_or_else(|| format!("unknown role `{r}`; use volunteer or staff")),
                    )
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(Some),
        };
        let deployment_country = self.countries(
            &format!("{field}.deployment_country"),
            &raw.deployment_country,
        );
        let deployment_country_not = self.countries(
            &format!("{field}.deployment_country_not"),
            &raw.deployment_country_not,
        );
        if let Some(profiles) = &raw.profile
            && profiles.iter().any(|p| p.trim().is_empty())
        {
            self.errors.push(FieldError::new(
                format!("{field}.profile"),
                "profile codes must not be empty",
            ));
        }
        Some(When {
            role: role?,
            deployment_country: deployment_country?,
            deployment_country_not: deployment_country_not?,
            profile: raw.profile.clone(),
        })
    }

    fn checks(&mut self, raw: &[RawCheck]) -> Option<Vec<Check>> {
        if raw.is_empty() {
            self.errors.push(FieldError::new(
                "checks",
                "a definition needs at least one check",
            ));
            return None;
        }
        if raw.len() > 50 {
            self.errors
                .push(FieldError::new("checks", "at most 50 checks"));
            return None;
        }
        let mut ids = BTreeMap::new();
        for (i, check) in raw.iter().enumerate() {
            if !is_slug(&check.id, 64) {
                self.errors.push(FieldError::new(
                    format!("checks[{i}].id"),
                    "ids are 1–64 lower-case letters, digits, `_` or `-`",
                ));
            }
            if ids.insert(check.id.as_str(), i).is_some() {
                self.errors.push(FieldError::new(
                    format!("checks[{i}].id"),
                    format!("duplicate check id `{}`", check.id),
                ));
            }
        }
        let mut checks = Vec::new();
        let mut complete = true;
        for (i, raw_check) in raw.iter().enumerate() {
            let field = format!("checks[{i}]");
            for (j, target) in raw_check.after.iter().enumerate() {
                if target == &raw_check.id {
                    self.errors.push(FieldError::new(
                        format!("{field}.after[{j}]"),
                        "a check cannot wait for itself",
                    ));
                } else if !ids.contains_key(target.as_str()) {
                    self.errors.push(FieldError::new(
                        format!("{field}.after[{j}]"),
                        format!("unknown check `{target}`"),
                    ));
                }
            }
            let authorisation =
                self.authorisation(&format!("{field}.authorisation"), &raw_check.authorisation);
            let sla = self.duration(&format!("{field}.sla"), &raw_check.sla);
            let when = self.when(&format!("{field}.when"), &raw_check.when);
            match (authorisation, sla, when) {
                (Some(authorisation), Some(sla), Some(when)) => checks.push(Check {
                    id: raw_check.id.clone(),
                    authorisation,
                    sla,
                    after: raw_check.after.clone(),
                    when,
                }),
                _ => complete = false,
            }
        }
        if let Some(cycle) = find_cycle(raw) {
            self.errors.push(FieldError::new(
                "checks",
                format!("the checks form a cycle: {}", cycle.join(" → ")),
            ));
        }
        complete.then_some(checks)
    }

    fn definition(&mut self, raw: &RawDefinition) -> Option<Definition> {
        if !is_slug(&raw.key, 64) {
            self.errors.push(FieldError::new(
                "key",
                "keys are 1–64 lower-case letters, digits, `_` or `-`",
            ));
        }
        let title = self.check("title", crate::domain::text::required(&raw.title, 200));
        let consent_window = self.duration("consent_window", &raw.consent_window);
        let checks = self.checks(&raw.checks);
        let assessment = self.stage(
            "assessment",
            &RawStage {
                authorisation: raw.assessment.authorisation.clone(),
                sla: raw.assessment.sla.clone(),
            },
        );
        let response_window = self.duration("response_window", &raw.response_window);
        let final_review = self.stage("final_review", &raw.final_review);
        let objection_window = self.duration("objection_window", &raw.objection_window);
        let objection_review = self.stage("objection_review", &raw.objection_review);
        let decision_deadline = self.duration("decision_deadline", &raw.decision_deadline);
        let routing = match raw.routing.strategy.as_str() {
            "least_loaded" => Some(RoutingStrategy::LeastLoaded),
            "round_robin" => Some(RoutingStrategy::RoundRobin),
            other => {
                self.errors.push(FieldError::new(
                    "routing.strategy",
                    format!("unknown strategy `{other}`; use least_loaded or round_robin"),
                ));
                None
            }
        };
        let on_overdue = match raw.escalation.on_overdue.as_str() {
            "notify_supervisors" => Some(OnOverdue::NotifySupervisors),
            "reassign" => Some(OnOverdue::Reassign),
            other => {
                self.errors.push(FieldError::new(
                    "escalation.on_overdue",
                    format!("unknown escalation `{other}`; use notify_supervisors or reassign"),
                ));
                None
            }
        };
        Some(Definition {
            key: raw.key.clone(),
            title: title?,
            consent_window: consent_window?,
            checks: checks?,
            auto_clear: raw.auto_clear,
            assessment: assessment?,
            four_eyes: raw.assessment.four_eyes,
            response_window: response_window?,
            final_review: final_review?,
            objection_window: objection_window?,
            objection_review: objection_review?,
            decision_deadline: decision_deadline?,
            routing: routing?,
            on_overdue: on_overdue?,
            document: Value::Null,
        })
    }
}

pub fn is_slug(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A cycle through `after`, if there is one, as the ids along it.
fn find_cycle(checks: &[RawCheck]) -> Option<Vec<String>> {
    // Duplicate ids (reported separately) pool their predecessors, so no cycle hides behind one.
    let mut after: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for check in checks {
        after
            .entry(check.id.as_str())
            .or_default()
            .extend(check.after.iter().map(String::as_str));
    }
    // Depth-first search with the path on a stack: 0 unvisited, 1 on the path, 2 done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        id: &'a str,
        after: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(id) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|p| *p == id).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                cycle.push(id.to_owned());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(id, 1);
        path.push(id);
        for next in after.get(id).into_iter().flatten() {
            if after.contains_key(next)
                && let Some(cycle) = visit(next, after, state, path)
            {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(id, 2);
        None
    }
    let ids: BTreeSet<&str> = after.keys().copied().collect();
    for id in ids {
        if let Some(cycle) = visit(id, &after, &mut state, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

/// A complete definition, the seeded `child-contact` v1: the example of the API's document,
/// and the tests' definition.
pub fn example() -> Value {
    serde_json::from_str(migration::CHILD_CONTACT).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn the_example_definition_is_valid() {
        let definition = parse(&example()).unwrap();
        assert_eq!(definition.checks.len(), 4);
        assert_eq!(
            definition.checks[2].when.role,
            Some(vec![PositionRole::Staff])
        );
        assert_eq!(
            definition.consent_window.as_time(),
            time::Duration::days(14)
        );
        // Stored normalised: the input with defaults made explicit.
        let mut expected = example();
        expected["checks"][0]["after"] = json!([]);
        assert_eq!(definition.document, expected);
    }

    #[test]
    fn defaults_are_filled_in() {
        let definition = parse(&json!({
            "key": "minimal", "title": "Minimal", "consent_window": "PT2S", "decision_deadline": "P1D",
            "checks": [{"id": "identity", "authorisation": "identity", "sla": "PT1S"}]
        }))
        .unwrap();
        assert!(definition.auto_clear && definition.four_eyes);
        assert_eq!(definition.document["objection_window"], "P42D");
        assert_eq!(definition.routing, RoutingStrategy::LeastLoaded);
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let mut doc = example();
        doc["colour"] = json!("blue");
        doc["consent_window"] = json!("P-1D");
        doc["checks"][1]["id"] = json!("identity");
        doc["checks"][2]["after"] = json!(["nowhere"]);
        doc["checks"][3]["authorisation"] = json!("mind_reading");
        doc["checks"][3]["when"] = json!({"shoe_size": [42]});
        let errors = parse(&doc).unwrap_err();
        let fields = fields(&errors);
        for expected in [
            "colour",
            "checks[3].when.shoe_size",
            "consent_window",
            "checks[1].id",
            "checks[2].after[0]",
            "checks[3].authorisation",
        ] {
            assert!(
                fields.contains(&expected),
                "{expected} missing from {fields:?}"
            );
        }
    }

    #[test]
    fn cycles_are_named() {
        let mut doc = example();
        doc["checks"][0]["after"] = json!(["reference"]);
        let errors = parse(&doc).unwrap_err();
        let cycle = errors.iter().find(|e| e.field == "checks").unwrap();
        assert!(
            cycle.message.contains("identity → reference → identity"),
            "{}",
            cycle.message
        );
    }

    #[test]
    fn wrong_types_are_reported_with_their_path() {
        let mut doc = example();
        doc["checks"][0]["sla"] = json!(5);
        let errors = parse(&doc).unwrap_err();
        assert_eq!(fields(&errors), ["checks[0].sla"]);
    }
}
