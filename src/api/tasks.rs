//! Checkers' tasks: list, show (with the subject data the task needs), complete, release and
//! assign.
use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::TAG_TASKS;
use crate::schemas;
use crate::{
    auth::Principal,
    db,
    engine::tasks::TaskKind,
    error::AppResult,
    extract::{AppJson, AppPath, AppQuery},
    pagination::{Page, PageParams},
    services::AppState,
    services::queue,
    services::tasks::{self, Completion, TaskFilter, TaskView},
    validation::Fields,
};
use entity::task;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks))
        .routes(routes!(get_task))
        .routes(routes!(complete_task))
        .routes(routes!(release_task))
        .routes(routes!(assign_task))
}

/// A unit of human work on a request.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TaskDto {
    pub id: Uuid,
    pub request_id: Uuid,
    /// `check`, `assessment`, `four_eyes_review`, `supervisor_review`, `final_review` or
    /// `objection_review`.
    pub kind: String,
    /// For checks: the definition's check id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// `unassigned`, `assigned`, `completed` or `cancelled`.
    pub status: String,
    pub assignee_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    pub overdue: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// On a single task: the subject data it needs (identity; employers for misconduct
    /// disclosure; referees for references; earlier outcomes and notes for assessments).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
}

pub fn task_dto(task: task::Model, context: Option<serde_json::Value>) -> TaskDto {
    TaskDto {
        id: task.id,
        request_id: task.request_id,
        kind: task.kind,
        check: task.check_id,
        status: task.status,
        assignee_id: task.assignee_id,
        due_at: db::utc(task.due_at),
        overdue: task.overdue,
        created_at: db::utc(task.created_at),
        completed_at: task.completed_at.map(db::utc),
        outcome: task.outcome,
        context,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    #[param(schema_with = schemas::task_status)]
    pub status: Option<String>,
    #[param(schema_with = schemas::task_kind)]
    pub kind: Option<String>,
    pub overdue: Option<bool>,
    pub request_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(schema_with = schemas::cursor)]
    pub cursor: Option<String>,
}

/// Tasks: a checker's own; every task for supervisors and admin. Newest first.
#[utoipa::path(get, path = "/v1/tasks", tag = TAG_TASKS, params(TaskQuery),
    responses((status = 200, description = "A page of tasks", body = Page<TaskDto>)))]
async fn list_tasks(
    State(state): State<AppState>,
    principal: Principal,
    AppQuery(q): AppQuery<TaskQuery>,
) -> AppResult<Json<Page<TaskDto>>> {
    let mut f = Fields::default();
    let page = PageParams {
        limit: q.limit,
        cursor: q.cursor,
    }
    .check(&mut f);
    let status = match q.status {
        None => Some(None),
        Some(s) => f.check("status", queue::parse_status(&s).map(Some)),
    };
    let kind = match q.kind {
        None => Some(None),
        Some(k) => f.check(
            "kind",
            TaskKind::parse(&k)
                .map(Some)
                .ok_or_else(|| format!("unknown task kind `{k}`")),
        ),
    };
    let (filter, page) = f.finish(|| {
        Some((
            TaskFilter {
                status: status?,
                kind: kind?,
                overdue: q.overdue,
                request_id: q.request_id,
            },
            page?,
        ))
    })?;
    let rows = tasks::list(&state, &principal, filter, page).await?;
    Ok(Json(Page::from_rows(
        rows,
        page,
        |t| t.id,
        |t| task_dto(t, None),
    )))
}

/// One task, with the subject data it needs (the read is audited).
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = TAG_TASKS,
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 200, description = "The task", body = TaskDto)))]
async fn get_task(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Json<TaskDto>> {
    let TaskView { task, context } = tasks::get(&state, &principal, id).await?;
    Ok(Json(task_dto(task, context)))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"outcome": "no_concerns", "notes": "Passport checked against the registry."})))]
#[serde(deny_unknown_fields)]
pub struct CompleteTask {
    #[schema(schema_with = schemas::task_outcome)]
    pub outcome: String,
    #[schema(schema_with = schemas::optional_text::<MAX_TEXT>)]
    pub notes: Option<String>,
    /// Required with `refuse`; the subject is shown them.
    #[schema(schema_with = schemas::optional_text::<MAX_TEXT>)]
    pub grounds: Option<String>,
}

const MAX_TEXT: usize = tasks::MAX_COMPLETION_TEXT;

/// Completes the task (the assignee only, exactly once) and moves its request on.
#[utoipa::path(post, path = "/v1/tasks/{id}/complete", tag = TAG_TASKS, request_body = CompleteTask,
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 200, description = "Completed", body = TaskDto)))]
async fn complete_task(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<CompleteTask>,
) -> AppResult<Json<TaskDto>> {
    let completion = Completion::parse(
        &body.outcome,
        body.notes.as_deref(),
        body.grounds.as_deref(),
    )?;
    let task = tasks::complete(&state, &principal, id, completion).await?;
    Ok(Json(task_dto(task, None)))
}

/// Hands the task back to routing; it never returns to the same checker.
#[utoipa::path(post, path = "/v1/tasks/{id}/release", tag = TAG_TASKS,
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 200, description = "Released", body = TaskDto)))]
async fn release_task(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
) -> AppResult<Json<TaskDto>> {
    let task = tasks::release(&state, &principal, id).await?;
    Ok(Json(task_dto(task, None)))
}

#[derive(Deserialize, ToSchema)]
#[schema(examples(json!({"checker_id": "0193a5b0-7c1e-7d2a-9f3b-2c4d5e6f7a8b"})))]
#[serde(deny_unknown_fields)]
pub struct AssignTask {
    pub checker_id: Uuid,
}

/// Gives the task to an eligible checker (supervisors and admin).
#[utoipa::path(post, path = "/v1/tasks/{id}/assign", tag = TAG_TASKS, request_body = AssignTask,
    params(("id" = Uuid, Path, description = "Task id")),
    responses((status = 200, description = "Assigned", body = TaskDto)))]
async fn assign_task(
    State(state): State<AppState>,
    principal: Principal,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<AssignTask>,
) -> AppResult<Json<TaskDto>> {
    let task = tasks::assign(&state, &principal, id, body.checker_id).await?;
    Ok(Json(task_dto(task, None)))
}
