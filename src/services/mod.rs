//! Use cases: each validates what the caller may do, then changes the database in one
//! transaction together with its audit events. No HTTP here. [`AppState`], what they share,
//! is theirs: the API and the pages hold it and hand it in; the engine and everything below
//! never see it.
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod certificates;
pub mod checkers;
pub mod data_keys;
pub mod factors;
pub mod invitations;
pub mod organisations;
pub mod passkeys;
pub mod queue;
pub mod retention;
pub mod sandbox;
pub mod screening;
pub mod sessions;
pub mod state;
pub mod submission_input;
pub mod submissions;
pub mod supervision;
pub mod tasks;
pub mod users;
pub mod webhooks;
pub mod workflows;

pub use state::AppState;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::{auth::tokens, db};
use entity::{activation_token, session};

/// How long an activation token works.
pub const ACTIVATION_TTL: time::Duration = time::Duration::days(7);

/// Revokes every live session of a user (deactivation, password change).
pub(crate) async fn revoke_sessions(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<u64, DbErr> {
    let result = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(db::now()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Issues a new activation token for a user, superseding any unused one, and e-mails the user
/// its link (`/activate/{token}`). Returns the token, which is shown once and never stored.
pub(crate) async fn issue_activation_token(
    state: &AppState,
    conn: &impl ConnectionTrait,
    user: &entity::user::Model,
) -> Result<String, DbErr> {
    let user_id = user.id;
    let now = db::now();
    activation_token::Entity::update_many()
        .col_expr(activation_token::Column::UsedAt, Expr::value(now))
        .filter(activation_token::Column::UserId.eq(user_id))
        .filter(activation_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    let new = tokens::generate(tokens::ACTIVATION_PREFIX);
    activation_token::Entity::insert(activation_token::ActiveModel {
        id: sea_orm::Set(db::new_id()),
        token_hash: sea_orm::Set(new.hash),
        user_id: sea_orm::Set(user_id),
        created_at: sea_orm::Set(now),
        expires_at: sea_orm::Set(now + ACTIVATION_TTL),
        used_at: sea_orm::Set(None),
    })
    .exec(conn)
    .await?;
    crate::mail::enqueue(
        conn,
        &state.data_key,
        None,
        "activation",
        &crate::mail::OutgoingMail {
            to: user.email.clone(),
            subject: "Your safescreen account".into(),
            body: format!(
                "Dear {},\n\nAn account on safescreen was made for you. Choose your password \
                 here within {} days:\n\n{}/activate/{}\n\nThe link works once.\n\n— safescreen\n",
                user.name,
                ACTIVATION_TTL.whole_days(),
                state.config.public_url,
                new.token
            ),
        },
    )
    .await?;
    Ok(new.token)
}
