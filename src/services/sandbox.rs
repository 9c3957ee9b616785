//! The sandbox: requests made with a sandbox key move on by themselves, a step about every
//! second, through the same services, engine and timers as live requests: the subject's
//! answers through the invitation services, the tasks completed as the sandbox (never routed
//! to a person), a lapse by the consent timer coming due. The subject's address says which
//! way: `…+clear@…`, `…+refuse@…`, `…+decline@…`, `…+lapse@…`, `…+withdraw@…`; any other
//! waits at the subject's page like a live request.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};
use uuid::Uuid;

use crate::{
    db,
    domain::{DeclineReason, RequestStatus},
    engine::{routing, tasks::TaskKind, timers},
    error::AppResult,
    services::{AppState, invitations, tasks},
};
use entity::{screening_request, task, timer};

/// How long the sandbox waits before each step.
pub const STEP: time::Duration = time::Duration::seconds(1);

/// Requests moved on in one round at most.
const BATCH: u64 = 50;

/// The paths a sandbox subject's address can ask for.
const PATHS: [&str; 5] = ["clear", "refuse", "decline", "lapse", "withdraw"];

/// The client the sandbox's subject answers from (the unknown-token throttle's key).
const CLIENT: &str = "sandbox";

/// The path in the address's `+tag` (`anna+clear@example.org` → `clear`), if it names one.
pub fn path_of(email: &str) -> Option<&'static str> {
    let local = email.rsplit_once('@')?.0;
    let tag = local.rsplit_once('+')?.1.to_ascii_lowercase();
    PATHS.into_iter().find(|path| *path == tag)
}

/// One step for each sandbox request whose last step is a step ago; returns how many moved.
pub async fn advance(state: &AppState) -> AppResult<usize> {
    let open = [
        RequestStatus::AwaitingConsent,
        RequestStatus::InProgress,
        RequestStatus::Assessment,
        RequestStatus::IntentToRefuse,
        RequestStatus::FinalReview,
    ];
    let requests = screening_request::Entity::find()
        .filter(screening_request::Column::Sandbox.eq(true))
        .filter(screening_request::Column::SandboxPath.is_not_null())
        .filter(screening_request::Column::ErasedAt.is_null())
        .filter(screening_request::Column::Status.is_in(open.map(RequestStatus::as_str)))
        .filter(screening_request::Column::UpdatedAt.lte(db::now() - STEP))
        .order_by_asc(screening_request::Column::UpdatedAt)
        .limit(BATCH)
        .all(&state.db)
        .await?;
    let mut moved = 0;
    for request in requests {
        match step(state, &request).await {
            Ok(true) => moved += 1,
            Ok(false) => {}
            // Another step (a timer, a second process) got there first: the next round sees.
            Err(err) => {
                tracing::debug!(request_id = %request.id, error = %err, "sandbox step skipped")
            }
        }
    }
    Ok(moved)
}

/// The next thing the subject or a checker would do for this request; true if it did one.
async fn step(state: &AppState, request: &screening_request::Model) -> AppResult<bool> {
    let path = request.sandbox_path.as_deref().unwrap_or_default();
    let status = RequestStatus::parse(&request.status);
    let token = || async {
        let sealed = request.invitation_token_sealed.as_deref();
        let token = state.data_key.open_opt(request.id, sealed).await;
        token.and_then(|bytes| String::from_utf8(bytes).ok())
    };
    match (status, path) {
        (Some(RequestStatus::AwaitingConsent), "decline") => {
            let Some(token) = token().await else {
                return Ok(false);
            };
            invitations::decline(state, &token, CLIENT, DeclineReason::NotConsenting, None).await?;
        }
        (Some(RequestStatus::AwaitingConsent), "lapse") => {
            // The consent window closes now; the timer worker lapses the request as it would
            // at the window's end.
            let lapsed = timer::Entity::update_many()
                .col_expr(timer::Column::DueAt, Expr::value(db::now()))
                .filter(timer::Column::RequestId.eq(request.id))
                .filter(timer::Column::Kind.eq(timers::TIMER_CONSENT_LAPSE))
                .filter(timer::Column::FiredAt.is_null())
                .filter(timer::Column::DueAt.gt(db::now()))
                .exec(&state.db_write)
                .await?;
            state.wake_workers.notify_one();
            return Ok(lapsed.rows_affected > 0);
        }
        (Some(RequestStatus::AwaitingConsent), _) => {
            let Some(token) = token().await else {
                return Ok(false);
            };
            invitations::consent(state, &token, CLIENT).await?;
        }
        (Some(RequestStatus::InProgress), "withdraw") => {
            let Some(token) = token().await else {
                return Ok(false);
            };
            invitations::withdraw_consent(state, &token, CLIENT).await?;
        }
        (Some(RequestStatus::IntentToRefuse), _) => {
            let Some(token) = token().await else {
                return Ok(false);
            };
            let statement = "Sandbox: the subject has nothing to add.".to_owned();
            invitations::respond(state, &token, CLIENT, statement).await?;
        }
        _ => return complete_open_tasks(state, request, path == "refuse").await,
    }
    Ok(true)
}

/// Completes the request's open tasks that were opened a step ago, as a checker of that path
/// would: all clear, or (refusing) one concern, a refusal and its confirmations.
async fn complete_open_tasks(
    state: &AppState,
    request: &screening_request::Model,
    refuse: bool,
) -> AppResult<bool> {
    let open = task::Entity::find()
        .filter(task::Column::RequestId.eq(request.id))
        .filter(task::Column::Sandbox.eq(true))
        .filter(task::Column::Status.eq(routing::UNASSIGNED))
        .filter(task::Column::CreatedAt.lte(db::now() - STEP))
        .order_by_asc(task::Column::Id)
        .all(&state.db)
        .await?;
    let mut concern_raised = refuse && concern_raised(state, request.id).await?;
    let mut done = false;
    for task in open {
        let Some(kind) = TaskKind::parse(&task.kind) else {
            continue;
        };
        let (outcome, grounds) = match kind {
            TaskKind::Check if refuse && !concern_raised => {
                concern_raised = true;
                ("concerns", None)
            }
            TaskKind::Check => ("no_concerns", None),
            TaskKind::FourEyesReview => ("concur", None),
            TaskKind::ObjectionReview => ("uphold", None),
            _ if refuse => (
                "refuse",
                Some("Sandbox: the check found a concern.".to_owned()),
            ),
            _ => ("clear", None),
        };
        let completion = tasks::Completion {
            outcome: outcome.to_owned(),
            notes: Some("Completed by the sandbox.".to_owned()),
            grounds,
        };
        tasks::complete_in_sandbox(state, task.id, completion).await?;
        done = true;
    }
    Ok(done)
}

/// Whether a check of the request already ended with a concern.
async fn concern_raised(state: &AppState, request_id: Uuid) -> AppResult<bool> {
    let found = task::Entity::find()
        .select_only()
        .column(task::Column::Id)
        .filter(task::Column::RequestId.eq(request_id))
        .filter(task::Column::Outcome.eq("concerns"))
        .into_tuple::<Uuid>()
        .one(&state.db)
        .await?;
    Ok(found.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_tag_names_the_path() {
        assert_eq!(path_of("anna+clear@example.org"), Some("clear"));
        assert_eq!(path_of("Anna.Jansen+Refuse@example.org"), Some("refuse"));
        assert_eq!(path_of("a+b+withdraw@example.org"), Some("withdraw"));
        for other in [
            "anna@example.org",
            "anna+later@example.org",
            "clear@example.org",
            "+clear",
        ] {
            assert_eq!(path_of(other), None, "{other}");
        }
    }
}
