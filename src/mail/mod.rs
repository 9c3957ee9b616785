//! E-mail to subjects: queued in the outbox (sealed) in the same transaction as the change that
//! causes it, sent by the background worker through SMTP or into the mail drop.
use std::{collections::HashSet, path::PathBuf, time::Duration};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Body, Mailbox,
        header::{ContentTransferEncoding, ContentType},
    },
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
    sea_query::{Expr, LockBehavior, LockType},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{config::Config, crypto::DataKey, db};

pub mod subject;
use entity::{mail_outbox, screening_request};

/// A message as queued: sealed at rest, because it holds personal data and the subject's link.
#[derive(Serialize, Deserialize)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Queues a message in the caller's transaction.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    data_key: &DataKey,
    request_id: Option<Uuid>,
    kind: &str,
    mail: &OutgoingMail,
) -> Result<(), DbErr> {
    mail_outbox::Entity::insert(outbox_row(data_key, request_id, kind, mail))
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The outbox row for a message, sealed under its own id.
pub fn outbox_row(
    data_key: &DataKey,
    request_id: Option<Uuid>,
    kind: &str,
    mail: &OutgoingMail,
) -> mail_outbox::ActiveModel {
    let id = db::new_id();
    let now = db::now();
    mail_outbox::ActiveModel {
        id: Set(id),
        request_id: Set(request_id),
        kind: Set(kind.to_owned()),
        message_sealed: Set(Some(data_key.seal_json(id, mail))),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
    }
}

/// Sends through SMTP when configured, else writes RFC 5322 `.eml` files to the mail drop.
pub struct Mailer {
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    drop_dir: PathBuf,
    from: Mailbox,
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let smtp = match &config.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SAFESCREEN_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            ),
            None => None,
        };
        Ok(Mailer {
            smtp,
            drop_dir: config.mail_dir.clone(),
            from: config
                .mail_from
                .parse()
                .map_err(|e| anyhow::anyhow!("SAFESCREEN_MAIL_FROM: {e}"))?,
        })
    }

    /// Sends a message, or writes it to the mail drop: always for the sandbox's (`to_drop`),
    /// which must reach no one.
    pub async fn send(&self, id: Uuid, mail: &OutgoingMail, to_drop: bool) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mail.to.parse()?)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{id}@safescreen>")))
            .header(ContentType::TEXT_PLAIN)
            // Quoted-printable always: the Dutch text is nearly all ASCII, so the message
            // stays readable as it is, links included.
            .body(
                Body::new_with_encoding(
                    mail.body.clone(),
                    ContentTransferEncoding::QuotedPrintable,
                )
                .map_err(|_| anyhow::anyhow!("the message cannot be encoded"))?,
            )?;
        match &self.smtp {
            Some(smtp) if !to_drop => {
                smtp.send(message).await?;
            }
            _ => {
                tokio::fs::create_dir_all(&self.drop_dir).await?;
                // Written aside and renamed into place, so a reader of the drop never sees
                // half a message.
                let partial = self.drop_dir.join(format!(".{id}.partial"));
                tokio::fs::write(&partial, message.formatted()).await?;
                tokio::fs::rename(&partial, self.drop_dir.join(format!("{id}.eml"))).await?;
            }
        }
        Ok(())
    }
}

const LEASE: time::Duration = time::Duration::seconds(60);
/// Messages claimed at a time.
pub const BATCH: usize = 50;

/// Sends due messages; returns how many were sent. Rows are leased, so a crashed worker's
/// messages are taken over once the lease expires, and a sent message is wiped.
pub async fn send_due(
    db_write: &DatabaseConnection,
    data_key: &DataKey,
    mailer: &Mailer,
) -> anyhow::Result<usize> {
    let now = db::now();
    let txn = db::begin_write(db_write).await?;
    let due = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(mail_outbox::Column::LeaseUntil.is_null())
                .add(mail_outbox::Column::LeaseUntil.lt(now)),
        )
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .limit(BATCH as u64)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    if due.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    let ids: Vec<Uuid> = due.iter().map(|m| m.id).collect();
    mail_outbox::Entity::update_many()
        .col_expr(mail_outbox::Column::LeaseUntil, Expr::value(now + LEASE))
        .filter(mail_outbox::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    // The sandbox's messages go to the mail drop only.
    let requests = due.iter().filter_map(|m| m.request_id);
    let sandbox: HashSet<Uuid> = screening_request::Entity::find()
        .select_only()
        .column(screening_request::Column::Id)
        .filter(screening_request::Column::Id.is_in(requests))
        .filter(screening_request::Column::Sandbox.eq(true))
        .into_tuple::<Uuid>()
        .all(db_write)
        .await?
        .into_iter()
        .collect();

    let mut sent_ids = Vec::new();
    for row in due {
        let to_drop = row.request_id.is_some_and(|id| sandbox.contains(&id));
        let result = match &row.message_sealed {
            Some(sealed) => match data_key.open_json::<OutgoingMail>(row.id, sealed).await {
                Ok(mail) => mailer.send(row.id, &mail, to_drop).await,
                Err(e) => Err(anyhow::anyhow!("message cannot be opened: {e}")),
            },
            None => Ok(()),
        };
        match result {
            Ok(()) => sent_ids.push(row.id),
            Err(err) => {
                tracing::warn!(mail_id = %row.id, error = %err, "e-mail not sent; will retry");
                let attempts = row.attempts + 1;
                let backoff = time::Duration::seconds(30 * i64::from(attempts.min(20)).pow(2));
                mail_outbox::Entity::update_many()
                    .col_expr(mail_outbox::Column::Attempts, Expr::value(attempts))
                    .col_expr(
                        mail_outbox::Column::NextAttemptAt,
                        Expr::value(db::now() + backoff),
                    )
                    .col_expr(
                        mail_outbox::Column::LastError,
                        Expr::value(err.to_string().chars().take(500).collect::<String>()),
                    )
                    .col_expr(
                        mail_outbox::Column::LeaseUntil,
                        Expr::value(Option::<time::PrimitiveDateTime>::None),
                    )
                    .filter(mail_outbox::Column::Id.eq(row.id))
                    .exec(db_write)
                    .await?;
            }
        }
    }
    // Every message sent in this round is marked (and wiped) in one statement.
    let sent = sent_ids.len();
    if !sent_ids.is_empty() {
        mail_outbox::Entity::update_many()
            .col_expr(mail_outbox::Column::SentAt, Expr::value(db::now()))
            .col_expr(
                mail_outbox::Column::MessageSealed,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(
                mail_outbox::Column::LeaseUntil,
                Expr::value(Option::<time::PrimitiveDateTime>::None),
            )
            .filter(mail_outbox::Column::Id.is_in(sent_ids))
            .exec(db_write)
            .await?;
    }
    Ok(sent)
}
