//! Reading the audit log.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{error::AppResult, pagination::PageRequest, services::AppState};
use entity::audit_event;

pub struct Query {
    pub target: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

/// The chain's state for the console: every linked event verified, or the first broken link.
pub enum ChainState {
    Whole(crate::audit::chain::Verified),
    Broken(crate::audit::chain::BrokenLink),
}

pub async fn chain_state(state: &AppState) -> AppResult<ChainState> {
    match crate::audit::chain::verify(&state.db).await {
        Ok(verified) => Ok(ChainState::Whole(verified)),
        Err(crate::audit::chain::VerifyError::Broken(link)) => Ok(ChainState::Broken(link)),
        Err(crate::audit::chain::VerifyError::Db(error)) => Err(error.into()),
    }
}

pub async fn list(
    state: &AppState,
    q: Query,
    page: PageRequest,
) -> AppResult<Vec<audit_event::Model>> {
    let mut query = audit_event::Entity::find().order_by_asc(audit_event::Column::Id);
    if let Some(target) = q.target {
        query = query.filter(audit_event::Column::Target.eq(target));
    }
    if let Some(actor) = q.actor {
        query = query.filter(audit_event::Column::Actor.eq(actor));
    }
    if let Some(action) = q.action {
        query = query.filter(audit_event::Column::Action.eq(action));
    }
    if let Some(after) = page.after {
        query = query.filter(audit_event::Column::Id.gt(after));
    }
    Ok(query.limit(page.limit + 1).all(&state.db).await?)
}
