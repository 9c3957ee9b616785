//! Every migration has a working `down`: up → down → up on both databases; the indexes serve
//! the queries they were made for.
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

use crate::helpers::*;

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let database = TestDatabase::new().await;
    let config = safescreen::Config::from_vars(test_vars(&database)).unwrap();
    let db = safescreen::db::connect(&config).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        entity::audit_chain::Entity::find()
            .count(&db)
            .await
            .unwrap(),
        1
    );
    Migrator::down(&db, None).await.unwrap();
    assert!(
        entity::user::Entity::find().count(&db).await.is_err(),
        "tables are gone after down"
    );
    assert!(
        Migrator::get_applied_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(entity::user::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(
        entity::audit_chain::Entity::find()
            .count(&db)
            .await
            .unwrap(),
        1
    );
    // Applying again is a no-op.
    safescreen::bootstrap::migrate(&db).await.unwrap();
    let _ = db.get_database_backend();
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    let database = TestDatabase::new().await;
    if database.is_postgres() {
        return;
    }
    let config = safescreen::Config::from_vars(test_vars(&database)).unwrap();
    let db = safescreen::db::connect(&config).await.unwrap();
    let pragma = |name: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    format!("PRAGMA {name}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("journal_mode").await, "wal");
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("busy_timeout").await, "10000");
}

/// A checker's task list (`GET /v1/tasks`, newest first) is a range scan of
/// `(assignee_id, id)`: no sort of all their tasks for a page of 25. SQLite's planner is
/// deterministic on an empty table; PostgreSQL's follows its statistics, so it is not asked.
#[tokio::test]
async fn a_checkers_task_list_reads_its_index_in_order() {
    let database = TestDatabase::new().await;
    if database.is_postgres() {
        return;
    }
    let config = safescreen::Config::from_vars(test_vars(&database)).unwrap();
    let migrated = safescreen::db::connect(&config).await.unwrap();
    Migrator::up(&migrated, None).await.unwrap();
    migrated.close().await.unwrap();
    // A new pool: EXPLAIN does not check the schema cookie, so a connection that read the schema
    // before the last migrations would plan against indexes that are gone.
    let db = safescreen::db::connect(&config).await.unwrap();
    let page = safescreen::pagination::PageRequest {
        limit: 25,
        after: Some(uuid::Uuid::now_v7()),
    };
    let filter = safescreen::services::tasks::TaskFilter::default();
    let query = safescreen::services::tasks::list_query(Some(uuid::Uuid::now_v7()), &filter, &page);
    let statement = sea_orm::QueryTrait::build(&query, db.get_database_backend());
    let plan: Vec<String> = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            format!("EXPLAIN QUERY PLAN {}", statement.sql),
            statement.values.map(|values| values.0).unwrap_or_default(),
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "detail").unwrap())
        .collect();
    assert!(
        plan.iter()
            .any(|step| step.contains("ix_tasks_assignee_newest")),
        "{plan:?}"
    );
    assert!(
        !plan.iter().any(|step| step.contains("TEMP B-TREE")),
        "{plan:?}"
    );
}
