//! Seed data: the workflows `child-contact` v1 and `general` v1, and the profiles
//! `child-contact-abroad` and `general-abroad` that use them.
use sea_orm_migration::{prelude::*, sea_orm::Value};

use crate::m20261129_000003_workflows::{ScreeningProfiles, WorkflowDefinitions};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub const CHILD_CONTACT: &str = r#"{
  "key": "child-contact",
  "title": "Standard screening for work with children abroad",
  "consent_window": "P14D",
  "checks": [
    {"id": "identity", "authorisation": "identity", "sla": "P2D", "after": []},
    {"id": "criminal_record", "authorisation": "criminal_record", "sla": "P10D", "after": ["identity"]},
    {"id": "misconduct", "authorisation": "misconduct_disclosure", "sla": "P10D", "after": ["identity"], "when": {"role": ["staff"]}},
    {"id": "reference", "authorisation": "reference", "sla": "P10D", "after": ["identity"]}
  ],
  "auto_clear": true,
  "assessment": {"authorisation": "assessment", "sla": "P5D", "four_eyes": true},
  "response_window": "P14D",
  "final_review": {"authorisation": "assessment", "sla": "P5D"},
  "objection_window": "P42D",
  "objection_review": {"authorisation": "assessment", "sla": "P14D"},
  "decision_deadline": "P28D",
  "routing": {"strategy": "least_loaded"},
  "escalation": {"on_overdue": "notify_supervisors"}
}"#;

pub const GENERAL: &str = r#"{
  "key": "general",
  "title": "General screening for work abroad",
  "consent_window": "P14D",
  "checks": [
    {"id": "identity", "authorisation": "identity", "sla": "P2D", "after": []},
    {"id": "criminal_record", "authorisation": "criminal_record", "sla": "P10D", "after": ["identity"]}
  ],
  "auto_clear": true,
  "assessment": {"authorisation": "assessment", "sla": "P5D", "four_eyes": true},
  "response_window": "P14D",
  "final_review": {"authorisation": "assessment", "sla": "P5D"},
  "objection_window": "P42D",
  "objection_review": {"authorisation": "assessment", "sla": "P14D"},
  "decision_deadline": "P28D",
  "routing": {"strategy": "least_loaded"},
  "escalation": {"on_overdue": "notify_supervisors"}
}"#;

fn published_at() -> Value {
    // A fixed time: the seed is the same in every database.
    time::macros::datetime!(2026-11-29 00:00).into()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (key, title, document) in [
            (
                "child-contact",
                "Standard screening for work with children abroad",
                CHILD_CONTACT,
            ),
            ("general", "General screening for work abroad", GENERAL),
        ] {
            let json: serde_json::Value =
                serde_json::from_str(document).map_err(|e| DbErr::Custom(e.to_string()))?;
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(WorkflowDefinitions::Table)
                        .columns([
                            WorkflowDefinitions::Key,
                            WorkflowDefinitions::Version,
                            WorkflowDefinitions::Title,
                            WorkflowDefinitions::Definition,
                            WorkflowDefinitions::PublishedAt,
                        ])
                        .values_panic([
                            key.into(),
                            1.into(),
                            title.into(),
                            json.into(),
                            published_at().into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        for (code, title, description, workflow) in [
            (
                "child-contact-abroad",
                "Work with children abroad",
                "For volunteers and staff who will work with minors outside the EU: identity, criminal record, misconduct disclosure from previous employers (staff) and a reference.",
                "child-contact",
            ),
            (
                "general-abroad",
                "General work abroad",
                "For volunteers and staff deployed outside the EU without contact with minors: identity and criminal record.",
                "general",
            ),
        ] {
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(ScreeningProfiles::Table)
                        .columns([
                            ScreeningProfiles::Code,
                            ScreeningProfiles::Version,
                            ScreeningProfiles::Title,
                            ScreeningProfiles::Description,
                            ScreeningProfiles::WorkflowKey,
                            ScreeningProfiles::WorkflowVersion,
                            ScreeningProfiles::ValidityMonths,
                            ScreeningProfiles::Roles,
                            ScreeningProfiles::ExpiryWarningDays,
                            ScreeningProfiles::CreatedAt,
                        ])
                        .values_panic([
                            code.into(),
                            1.into(),
                            title.into(),
                            description.into(),
                            workflow.into(),
                            1.into(),
                            36.into(),
                            serde_json::json!(["volunteer", "staff"]).into(),
                            30.into(),
                            published_at().into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(ScreeningProfiles::Table)
                    .and_where(Expr::col(ScreeningProfiles::Version).eq(1))
                    .and_where(
                        Expr::col(ScreeningProfiles::Code)
                            .is_in(["child-contact-abroad", "general-abroad"]),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(WorkflowDefinitions::Table)
                    .and_where(Expr::col(WorkflowDefinitions::Version).eq(1))
                    .and_where(
                        Expr::col(WorkflowDefinitions::Key).is_in(["child-contact", "general"]),
                    )
                    .to_owned(),
            )
            .await
    }
}
