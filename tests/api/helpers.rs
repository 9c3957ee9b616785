//! Starting the service for a test, and calling it.
use std::{collections::HashMap, net::SocketAddr};

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use reqwest::{Method, StatusCode};
use safescreen::{Config, bootstrap};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@example.org";
pub const ADMIN_PASSWORD: &str = "admin password for tests";
pub const USER_PASSWORD: &str = "a long enough password";

/// A fresh database: a temporary SQLite file, or a new PostgreSQL database when
/// `SAFESCREEN_TEST_DATABASE_URL` names a server.
pub struct TestDatabase {
    pub url: String,
    pub dir: TempDir,
}

impl TestDatabase {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = match std::env::var("SAFESCREEN_TEST_DATABASE_URL") {
            Ok(server) if !server.is_empty() => {
                let name = format!("test_{}", Uuid::new_v4().simple());
                let admin = Database::connect(&server)
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let base = server
                    .rsplit_once('/')
                    .map_or(server.as_str(), |(base, _)| base);
                format!("{base}/{name}")
            }
            _ => format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
        };
        TestDatabase { url, dir }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }
}

pub fn test_vars(db: &TestDatabase) -> HashMap<String, String> {
    [
        ("SAFESCREEN_DATABASE_URL", db.url.clone()),
        ("SAFESCREEN_DATABASE_MAX_CONNECTIONS", "4".into()),
        ("SAFESCREEN_LISTEN", "127.0.0.1:0".into()),
        ("SAFESCREEN_DATA_KEY", B64.encode([42u8; 32])),
        ("SAFESCREEN_ADMIN_EMAIL", ADMIN_EMAIL.into()),
        ("SAFESCREEN_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        (
            "SAFESCREEN_MAIL_DIR",
            db.dir.path().join("mail").display().to_string(),
        ),
        ("SAFESCREEN_WORKER_INTERVAL_MS", "50".into()),
        (
            "SAFESCREEN_AUDIT_CHECKPOINT_DIR",
            db.dir.path().join("checkpoints").display().to_string(),
        ),
        // Staff sign in with the password alone here; the default, a second factor for
        // staff, is what tests/api/sign_in.rs and tests/api/pages.rs run under.
        ("SAFESCREEN_MFA", "optional".into()),
        // Tests make requests faster than anyone would; tests/api/rate_limits.rs holds the
        // default and the limit itself.
        ("SAFESCREEN_RATE_LIMIT", "1000000/min".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    /// The service's data keys, to open what it sealed.
    pub data_key: safescreen::crypto::DataKey,
    pub database: TestDatabase,
    pub admin_token: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Starts the real service against a fresh database and signs the admin in.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// The same, with extra `SAFESCREEN_*` settings.
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    spawn_app_on(TestDatabase::new().await, settings).await
}

/// The service on a database that already holds data (a fixture, a restored backup).
pub async fn spawn_app_on(database: TestDatabase, settings: &[(&str, &str)]) -> TestApp {
    let mut vars = test_vars(&database);
    for (name, value) in settings {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    let config = Config::from_vars(vars).expect("test configuration");
    let state = bootstrap::open(config).await.expect("open the service");
    bootstrap::ensure_admin(&state).await.expect("first admin");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(safescreen::serve(listener, state.clone(), async move {
        let _ = stop.await;
    }));
    let mut app = TestApp {
        address,
        client: reqwest::Client::builder().build().unwrap(),
        db: state.db.clone(),
        data_key: state.data_key.clone(),
        database,
        admin_token: String::new(),
        shutdown: Some(shutdown),
        server: Some(server),
    };
    app.admin_token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app
}

/// A second server process's worth of service on the first one's database (same data key),
/// as a deployment scales out.
pub async fn spawn_second_app(first: &TestApp) -> TestApp {
    spawn_second_app_with(first, &[]).await
}

/// The same, with extra `SAFESCREEN_*` settings.
pub async fn spawn_second_app_with(first: &TestApp, settings: &[(&str, &str)]) -> TestApp {
    let mut vars = test_vars(&first.database);
    vars.insert("SAFESCREEN_DATABASE_URL".into(), first.database.url.clone());
    for (name, value) in settings {
        vars.insert((*name).to_owned(), (*value).to_owned());
    }
    let config = Config::from_vars(vars).expect("test configuration");
    let state = bootstrap::open(config)
        .await
        .expect("open the second service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(safescreen::serve(listener, state.clone(), async move {
        let _ = stop.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        db: state.db.clone(),
        data_key: state.data_key.clone(),
        database: TestDatabase {
            url: first.database.url.clone(),
            dir: tempfile::tempdir().unwrap(),
        },
        admin_token: first.admin_token.clone(),
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

/// An answer: status, headers and the body as JSON (or `Value::Null`).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn problem_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts an RFC 9457 problem with this status.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"].is_string()
                && self.body["title"].is_string()
                && self.body["detail"].is_string()
        );
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_from(method, path, token, body, None).await
    }

    /// The same, from a page of ours (`Sec-Fetch-Site: same-origin`, as a browser says) when
    /// `site` is given, or from another site.
    pub async fn call_from(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        site: Option<&str>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        into_reply(request.send().await.expect("request sent")).await
    }

    /// The body of a public GET, as text.
    pub async fn public_text(&self, path: &str) -> String {
        let answer = self.client.get(self.url(path)).send().await.unwrap();
        answer.text().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Sends raw bytes with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        into_reply(request.send().await.expect("request sent")).await
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let reply = self.try_login(email, password).await;
        assert_eq!(reply.status, 200, "login failed: {}", reply.text);
        reply.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn activate(&self, activation_token: &str, password: &str) -> Reply {
        self.call(
            Method::POST,
            "/v1/auth/activate",
            None,
            Some(json!({"token": activation_token, "password": password})),
        )
        .await
    }

    /// Creates an organisation operating in Uganda; returns its id.
    pub async fn create_organisation(&self, name: &str) -> Uuid {
        let reply = self
            .post(
                "/v1/organisations",
                &self.admin_token,
                organisation_body(name),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.body["id"].as_str().unwrap().parse().unwrap()
    }

    /// Creates an organisation user, activates them and signs them in: (user id, session token).
    pub async fn create_member(&self, organisation: Uuid, role: &str) -> (Uuid, String) {
        let (id, email) = self.member_account(organisation, role).await;
        (id, self.login(&email, USER_PASSWORD).await)
    }

    /// An organisation user activated with [`USER_PASSWORD`]: (user id, e-mail address).
    pub async fn member_account(&self, organisation: Uuid, role: &str) -> (Uuid, String) {
        let email = format!("{role}-{}@example.org", Uuid::new_v4().simple());
        let reply = self
            .post(
                &format!("/v1/organisations/{organisation}/users"),
                &self.admin_token,
                json!({"email": email, "name": "Member", "role": role}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let id = reply.body["user"]["id"].as_str().unwrap().parse().unwrap();
        let activation = reply.body["activation_token"].as_str().unwrap();
        assert_eq!(self.activate(activation, USER_PASSWORD).await.status, 204);
        (id, email)
    }

    /// Creates an API key for the organisation: (key id, key).
    pub async fn create_api_key(&self, organisation: Uuid) -> (Uuid, String) {
        let reply = self
            .post(
                &format!("/v1/organisations/{organisation}/api-keys"),
                &self.admin_token,
                json!({"name": "integration"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        (
            reply.body["id"].as_str().unwrap().parse().unwrap(),
            reply.body["key"].as_str().unwrap().to_owned(),
        )
    }

    /// Creates a checker, activates and signs them in: (checker id, session token).
    /// A checker account, activated with [`USER_PASSWORD`]; returns its id and e-mail address.
    pub async fn checker_account(
        &self,
        authorisations: &[&str],
        supervisor: bool,
        max_open_tasks: i64,
        conflicts: &[Uuid],
    ) -> (Uuid, String) {
        let email = format!("checker-{}@example.org", Uuid::new_v4().simple());
        let reply = self
            .post(
                "/v1/checkers",
                &self.admin_token,
                json!({"email": email, "name": format!("Checker {}", &email[8..14]),
                       "authorisations": authorisations, "supervisor": supervisor,
                       "max_open_tasks": max_open_tasks, "conflicts": conflicts}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let id = reply.body["checker"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let activation = reply.body["activation_token"].as_str().unwrap();
        assert_eq!(self.activate(activation, USER_PASSWORD).await.status, 204);
        (id, email)
    }

    pub async fn create_checker(&self, supervisor: bool) -> (Uuid, String) {
        let (id, email) = self
            .checker_account(&["identity", "assessment"], supervisor, 5, &[])
            .await;
        (id, self.login(&email, USER_PASSWORD).await)
    }

    /// Waits until the chain writer has linked every committed audit event.
    pub async fn wait_for_audit_chain(&self) {
        for _ in 0..200 {
            let verified = safescreen::audit::chain::verify(&self.db)
                .await
                .expect("chain verifies");
            if verified.pending == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("audit events were not chained in time");
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }

    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// Registers a webhook endpoint as the organisation's org_admin.
    pub async fn create_webhook_endpoint(
        &self,
        org_admin: &str,
        url: &str,
        events: &[&str],
    ) -> Reply {
        self.post(
            "/v1/webhook-endpoints",
            org_admin,
            json!({"url": url, "events": events}),
        )
        .await
    }
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the real `safescreen` command on the test's database, with extra `SAFESCREEN_*`
/// settings, and returns its output whatever it is; asynchronously, since a test's server
/// shares its runtime.
pub async fn safescreen_with(
    database: &TestDatabase,
    args: &[&str],
    settings: &[(&str, &str)],
) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_safescreen"))
        .args(args)
        .envs(test_vars(database))
        .envs(settings.iter().copied())
        .env("SAFESCREEN_LOG", "error")
        .output()
        .await
        .unwrap()
}

/// What a command printed, standard output then standard error.
pub fn said(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The same, failing the test unless it succeeds.
pub async fn run_safescreen(database: &TestDatabase, args: &[&str]) -> std::process::Output {
    let output = safescreen_with(database, args, &[]).await;
    assert!(
        output.status.success(),
        "safescreen {args:?}: {}",
        said(&output)
    );
    output
}

pub fn organisation_body(name: &str) -> Value {
    json!({
        "name": name,
        "registration_number": Uuid::new_v4().simple().to_string()[..12],
        "country": "NL",
        "operating_countries": ["UG", "KE"],
        "contact_email": "office@example.org",
    })
}

async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// A valid submission for a subject with this e-mail address.
pub fn submission(email: &str) -> Value {
    json!({
        "profile": "child-contact-abroad",
        "reference": "HR-2026-0042",
        "position": {"title": "Teacher", "description": "Primary school in Gulu", "role": "volunteer"},
        "deployment": {"country": "UG", "start_date": "2027-02-01"},
        "subject": {
            "given_names": "Jan Pieter", "family_name": "de Vries", "date_of_birth": "1990-04-12",
            "place_of_birth": "Utrecht", "country_of_birth": "NL", "nationalities": ["NL"],
            "email": email, "bsn": "123456782",
            "previous_employers": [{"organisation": "Stichting Kinderhulp", "country": "KE", "from": "2019-01",
                                    "to": "2022-06", "contact_email": "hr@kinderhulp.example.org"}],
            "referees": [{"name": "Marieke Jansen", "email": "marieke@example.org", "relationship": "former manager"}]
        }
    })
}

impl TestApp {
    /// Submits a request with `key` (an API key or session); returns its id.
    pub async fn submit(&self, key: &str, subject_email: &str) -> Uuid {
        let reply = self
            .post("/v1/screening-requests", key, submission(subject_email))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.body["id"].as_str().unwrap().parse().unwrap()
    }

    /// The subject acts through the JSON endpoint `/v1/invitations/{token}/{action}`.
    pub async fn subject_posts(&self, token: &str, action: &str, body: Value) -> Reply {
        self.call(
            Method::POST,
            &format!("/v1/invitations/{token}/{action}"),
            None,
            Some(body),
        )
        .await
    }

    /// The subject consents through the JSON endpoint.
    pub async fn consent(&self, token: &str) -> Reply {
        self.subject_posts(token, "consent", json!({"consent": true}))
            .await
    }

    /// Waits for an e-mail to this address whose link starts with `path_prefix` (`/activate/`,
    /// `/password-reset/`); returns what follows it. The newest such message counts.
    pub async fn mailed_link(&self, to: &str, path_prefix: &str) -> String {
        let dir = self.database.dir.path().join("mail");
        for _ in 0..200 {
            let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if entry.path().extension().is_none_or(|e| e != "eml") {
                    continue;
                }
                let text = std::fs::read_to_string(entry.path())
                    .unwrap_or_default()
                    .replace("=\r\n", "")
                    .replace("=\n", "");
                if !text.contains(&format!("To: {to}")) {
                    continue;
                }
                if let Some(start) = text.find(path_prefix).map(|at| at + path_prefix.len()) {
                    let token: String = text[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                        .collect();
                    let modified = entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    found.push((modified, token));
                }
            }
            found.sort();
            if let Some((_, token)) = found.pop() {
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no e-mail to {to} with a {path_prefix} link");
    }

    /// The newest password reset token e-mailed to this address, once the mail has gone out
    /// (waits for a new one when `after` is the previous token).
    pub async fn reset_token(&self, to: &str) -> String {
        let sent = || async {
            entity::mail_outbox::Entity::find()
                .filter(sea_orm::ColumnTrait::eq(
                    &entity::mail_outbox::Column::Kind,
                    "password_reset",
                ))
                .filter(sea_orm::ColumnTrait::is_null(
                    &entity::mail_outbox::Column::SentAt,
                ))
                .count(&self.db)
                .await
                .unwrap()
        };
        for _ in 0..200 {
            if sent().await == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        self.mailed_link(to, "/password-reset/").await
    }

    /// Waits for the invitation e-mail to this address in the mail drop; returns the token
    /// from its link.
    pub async fn invitation_token(&self, subject_email: &str) -> String {
        let dir = self.database.dir.path().join("mail");
        for _ in 0..200 {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    if entry.path().extension().is_none_or(|e| e != "eml") {
                        continue; // still being written
                    }
                    // Quoted-printable: undo soft line breaks before reading the link.
                    let text = std::fs::read_to_string(entry.path())
                        .unwrap_or_default()
                        .replace("=\r\n", "")
                        .replace("=\n", "");
                    if text.contains(&format!("To: {subject_email}")) {
                        let Some(start) = text.find("/s/ss_inv_").map(|at| at + 3) else {
                            continue; // a later message, without the link
                        };
                        let token: String = text[start..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                            .collect();
                        return token;
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no invitation e-mail to {subject_email}");
    }
}
