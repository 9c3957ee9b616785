//! Partial indexes over the rows the background workers wait for (unsent e-mail, undelivered
//! webhooks, unfired timers, unchained audit events), in the order the workers take them.
//!
//! The first indexes covered every row, so each poll walked past every row ever sent or
//! linked (and, on PostgreSQL, past their dead versions) and sorted what was left: tens of
//! milliseconds per poll at a few ten thousand rows, and growing. A partial index holds only
//! the pending rows, already in order, so a poll reads just the rows it takes. Both databases
//! accept the same `CREATE INDEX … WHERE`.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An index by name and definition (`table (columns) [WHERE …]`).
type Index = (&'static str, &'static str);

/// Each new partial index, and the full index it replaces.
const INDEXES: [(Index, Option<Index>); 4] = [
    (
        (
            "ix_mail_outbox_pending",
            "mail_outbox (next_attempt_at) WHERE sent_at IS NULL",
        ),
        Some((
            "ix_mail_outbox_due",
            "mail_outbox (sent_at, next_attempt_at)",
        )),
    ),
    (
        (
            "ix_webhook_deliveries_pending",
            "webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL",
        ),
        Some((
            "ix_webhook_deliveries_due",
            "webhook_deliveries (delivered_at, failed_at, next_attempt_at)",
        )),
    ),
    (
        (
            "ix_timers_pending",
            "timers (due_at) WHERE fired_at IS NULL",
        ),
        Some(("ix_timers_due", "timers (fired_at, due_at)")),
    ),
    (
        (
            "ix_audit_events_unchained",
            "audit_events (at, id) WHERE seq IS NULL",
        ),
        None,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for ((name, definition), replaces) in INDEXES {
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {definition}"))
                .await?;
            if let Some((old, _)) = replaces {
                db.execute_unprepared(&format!("DROP INDEX {old}")).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for ((name, _), replaces) in INDEXES {
            if let Some((old, definition)) = replaces {
                db.execute_unprepared(&format!("CREATE INDEX {old} ON {definition}"))
                    .await?;
            }
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}
