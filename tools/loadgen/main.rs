//! Load generator: drives the real HTTP API and prints throughput and latency percentiles.
//!
//!   loadgen --url http://127.0.0.1:8080 --admin-email E --admin-password P \
//!           --scenario submit|read|list|me|lifecycle --connections 32 --seconds 15
//!           [--mail-dir D] [--requests N]
//!
//! It signs in as the admin, creates an organisation and an API key, and then runs the
//! scenario from that many concurrent connections for that long. `lifecycle` is a whole
//! screening: submit, the subject reads the invitation from the mail drop (`--mail-dir`) and
//! consents, checkers complete every check `no_concerns`, and the request is cleared; it
//! prints a second line with the latency of the consent, which assigns the first task.
//! `list` first submits `--requests` requests, then pages through them 25 at a time (the
//! first page and the next 39, by their cursors). `sign-in` makes `--requests` users with the
//! password alone and as many with an authenticator app (TOTP), and signs each in once, the
//! connections at a time: a line for each, so the second factor's added latency shows.
//! `console` gives one checker `--requests` tasks (requests submitted and consented to, each
//! one's identity check assigned to them), signs them in through the pages, and fetches their
//! queue page `/console/tasks` with the session cookie, as a browser would. `portal` submits
//! `--requests` requests, signs an organisation admin in through the pages, and fetches the
//! organisation's request list page `/org/requests`. `tasks` seeds the same checker and fetches
//! the API's `GET /v1/tasks?limit=25` with their session token, the queue as a program reads
//! it. `upload` sends one CSV file of `--requests` rows (at most 500) through the portal's check
//! page and submits it, timing both.
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long)]
    admin_email: String,
    #[arg(long)]
    admin_password: String,
    /// `submit`, `read`, `list`, `me`, `lifecycle`, `sign-in`, `console`, `tasks`, `portal` or
    /// `upload`.
    #[arg(long)]
    scenario: String,
    /// For `list`: how many requests to submit first (the list pages through them).
    #[arg(long, default_value_t = 10_000)]
    requests: u64,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// The service's mail drop (`SAFESCREEN_MAIL_DIR`), for `lifecycle`.
    #[arg(long)]
    mail_dir: Option<std::path::PathBuf>,
}

fn submission(n: u64) -> Value {
    submission_for(n, &format!("subject{n}@example.org"))
}

fn submission_for(n: u64, email: &str) -> Value {
    json!({
        "profile": "child-contact-abroad",
        "reference": format!("LOAD-{n}"),
        "position": {"title": "Teacher", "role": "volunteer"},
        "deployment": {"country": "UG", "start_date": "2027-02-01"},
        "subject": {
            "given_names": "Jan Pieter", "family_name": "de Vries", "date_of_birth": "1990-04-12",
            "place_of_birth": "Utrecht", "country_of_birth": "NL", "nationalities": ["NL"],
            "email": email, "bsn": "123456782"
        }
    })
}

async fn setup(client: &reqwest::Client, args: &Args) -> anyhow::Result<String> {
    let token = login(client, &args.url, &args.admin_email, &args.admin_password).await?;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let org: Value = client
        .post(format!("{}/v1/organisations", args.url))
        .bearer_auth(&token)
        .json(
            &json!({"name": "Load", "registration_number": &suffix[..12], "country": "NL",
                      "operating_countries": ["UG"], "contact_email": "load@example.org"}),
        )
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let key: Value = client
        .post(format!(
            "{}/v1/organisations/{}/api-keys",
            args.url,
            org["id"].as_str().unwrap_or_default()
        ))
        .bearer_auth(&token)
        .json(&json!({"name": "load"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(key["key"].as_str().unwrap_or_default().to_owned())
}

/// The `name=value` pairs a response sets, added to `jar`.
fn keep_cookies(jar: &mut Vec<(String, String)>, response: &reqwest::Response) {
    for set in response.headers().get_all(reqwest::header::SET_COOKIE) {
        let Some((name, value)) = set
            .to_str()
            .ok()
            .and_then(|s| s.split(';').next())
            .and_then(|pair| pair.split_once('='))
        else {
            continue;
        };
        jar.retain(|(n, _)| n != name);
        if !value.is_empty() {
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `console` and `tasks`: a checker with `count` tasks of their own, signed in through `/login`
/// as a browser would and through the API; returns the session's `Cookie` header and the API
/// session token.
async fn console_checker(
    client: &reqwest::Client,
    args: &Args,
    key: &str,
    mailbox: Arc<Mailbox>,
) -> anyhow::Result<(String, String)> {
    let admin = login(client, &args.url, &args.admin_email, &args.admin_password).await?;
    let email = format!("queue-{}@example.org", uuid::Uuid::new_v4().simple());
    let password = "console checker password";
    let created: Value = client
        .post(format!("{}/v1/checkers", args.url))
        .bearer_auth(&admin)
        .json(&json!({"email": email, "name": "Queue checker",
                      "authorisations": ["identity"], "supervisor": false,
                      "max_open_tasks": 10000, "conflicts": []}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    client
        .post(format!("{}/v1/auth/activate", args.url))
        .json(&json!({"token": created["activation_token"], "password": password}))
        .send()
        .await?
        .error_for_status()?;
    // Each consent starts the identity check, which goes to the only checker who may do it.
    let next = Arc::new(AtomicU64::new(0));
    let mut seeders = Vec::new();
    for _ in 0..args.connections {
        let (client, url, key, next, mailbox) = (
            client.clone(),
            args.url.clone(),
            key.to_owned(),
            Arc::clone(&next),
            Arc::clone(&mailbox),
        );
        let count = args.requests;
        seeders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(());
                }
                let subject = format!("queue{n}-{}@example.org", uuid::Uuid::new_v4().simple());
                client
                    .post(format!("{url}/v1/screening-requests"))
                    .bearer_auth(&key)
                    .json(&submission_for(n, &subject))
                    .send()
                    .await?
                    .error_for_status()?;
                let token = mailbox.token_for(&subject).await?;
                client
                    .post(format!("{url}/v1/invitations/{token}/consent"))
                    .json(&json!({"consent": true}))
                    .send()
                    .await?
                    .error_for_status()?;
            }
        }));
    }
    for seeder in seeders {
        seeder.await??;
    }
    let cookie = page_sign_in(client, &args.url, &email, password).await?;
    let queue = client
        .get(format!("{}/console/tasks", args.url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    anyhow::ensure!(
        queue.contains("/console/tasks/"),
        "the queue page lists no task"
    );
    let token = login(client, &args.url, &email, password).await?;
    Ok((cookie, token))
}

/// Signs in through `/login` as a browser does (the form's CSRF token, then the password);
/// returns the session's `Cookie` header.
async fn page_sign_in(
    client: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let mut jar = Vec::new();
    let form = client.get(format!("{url}/login")).send().await?;
    keep_cookies(&mut jar, &form);
    let body = form.error_for_status()?.text().await?;
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no csrf field on /login"))?
        .to_owned();
    let signed_in = client
        .post(format!("{url}/login"))
        .header(reqwest::header::COOKIE, cookie_header(&jar))
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await?;
    keep_cookies(&mut jar, &signed_in);
    anyhow::ensure!(
        signed_in.status().is_redirection(),
        "sign-in answered {}",
        signed_in.status()
    );
    Ok(cookie_header(&jar))
}

/// `portal`: an organisation admin of the key's organisation, signed in through `/login`;
/// returns the session's `Cookie` header once the list page shows the seeded requests.
async fn portal_admin(client: &reqwest::Client, args: &Args, key: &str) -> anyhow::Result<String> {
    let admin = login(client, &args.url, &args.admin_email, &args.admin_password).await?;
    let me: Value = client
        .get(format!("{}/v1/me", args.url))
        .bearer_auth(key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let organisation = me["organisation_id"].as_str().unwrap_or_default();
    let email = format!("portal-{}@example.org", uuid::Uuid::new_v4().simple());
    let password = "portal admin password";
    let created: Value = client
        .post(format!(
            "{}/v1/organisations/{organisation}/users",
            args.url
        ))
        .bearer_auth(&admin)
        .json(&json!({"email": email, "name": "Portal admin", "role": "org_admin"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    client
        .post(format!("{}/v1/auth/activate", args.url))
        .json(&json!({"token": created["activation_token"], "password": password}))
        .send()
        .await?
        .error_for_status()?;
    let cookie = page_sign_in(client, &args.url, &email, password).await?;
    let list = client
        .get(format!("{}/org/requests", args.url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    anyhow::ensure!(
        args.scenario != "portal" || list.contains("Jan Pieter de Vries"),
        "the list page shows no request"
    );
    if args.scenario == "portal" {
        // The whole list as the CSV export, once (to stderr, beside the table).
        let began = Instant::now();
        let export = client
            .get(format!("{}/org/requests.csv", args.url))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        eprintln!(
            "export: {} rows, {} KB in {:.2} s",
            export.iter().filter(|b| **b == b'\n').count() - 1,
            export.len() / 1024,
            began.elapsed().as_secs_f64()
        );
    }
    Ok(cookie)
}

/// The `value` of the first form field named `name` on a page.
fn field_value<'a>(page: &'a str, name: &str) -> anyhow::Result<&'a str> {
    page.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no {name} field"))
}

/// `upload`: one CSV file of `--requests` rows (at most 500) through the portal, as an
/// organisation admin: the check page, then the submission of every row; prints how long each
/// took.
async fn upload(client: &reqwest::Client, args: &Args, key: &str) -> anyhow::Result<()> {
    let cookie = portal_admin(client, args, key).await?;
    let mut file = String::from(
        "profile,reference,position.title,position.role,deployment.country,deployment.start_date,\
         subject.given_names,subject.family_name,subject.date_of_birth,subject.place_of_birth,\
         subject.country_of_birth,subject.nationalities,subject.email\n",
    );
    let run = uuid::Uuid::new_v4().simple().to_string();
    for n in 0..args.requests.min(500) {
        file.push_str(&format!(
            "child-contact-abroad,UP-{n},Teacher,volunteer,UG,2027-02-01,Jan Pieter,de Vries,\
             1990-04-12,Utrecht,NL,NL,upload{n}-{run}@example.org\n"
        ));
    }
    let page = client
        .get(format!("{}/org/requests/upload", args.url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let csrf = field_value(&page, "csrf")?.to_owned();
    // The multipart body a browser sends (written here: the service's reqwest has no
    // multipart feature, and the load generator shares its dependencies).
    let boundary = format!("loadgen{run}");
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"requests.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    );
    let began = Instant::now();
    let check = client
        .post(format!("{}/org/requests/upload", args.url))
        .header(reqwest::header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let checked = began.elapsed();
    let carried = field_value(&check, "file")?.to_owned();
    let began = Instant::now();
    let done = client
        .post(format!("{}/org/requests/upload/submit", args.url))
        .header(reqwest::header::COOKIE, &cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[("csrf", csrf.as_str()), ("file", carried.as_str())])
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let submitted = began.elapsed();
    let rows = args.requests.min(500);
    anyhow::ensure!(
        done.contains(&format!("{rows} requests submitted.")),
        "the upload did not submit every row"
    );
    println!(
        "upload {rows} check {:.2} submit {:.2}",
        checked.as_secs_f64(),
        submitted.as_secs_f64()
    );
    Ok(())
}

/// Submits `count` requests from `parallel` connections at once; returns their ids.
async fn seed(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    count: u64,
    parallel: usize,
) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicU64::new(0));
    let mut seeders = Vec::new();
    for _ in 0..parallel {
        let (client, url, key, next) = (
            client.clone(),
            url.to_owned(),
            key.to_owned(),
            Arc::clone(&next),
        );
        seeders.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(ids);
                }
                let created: Value = client
                    .post(format!("{url}/v1/screening-requests"))
                    .bearer_auth(&key)
                    .json(&submission(n))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                ids.push(created["id"].as_str().unwrap_or_default().to_owned());
            }
        }));
    }
    let mut ids = Vec::new();
    for seeder in seeders {
        ids.extend(seeder.await??);
    }
    Ok(ids)
}

/// Waits until the service has sent the seeding's e-mail and chained its audit events (as its
/// `/metrics` tell), so that `list` measures the list and not the catching up.
async fn caught_up(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let began = Instant::now();
    loop {
        let metrics = client
            .get(format!("{url}/metrics"))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let waiting = |name: &str| {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .is_some_and(|n| n.trim() != "0")
        };
        if !waiting("safescreen_outbox_backlog{kind=\"mail\"}")
            && !waiting("safescreen_audit_unchained")
        {
            eprintln!(
                "caught up {:.0} s after seeding",
                began.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The query suffixes of the first `pages` pages of the list: "" for the first, then
/// `&cursor=…` for each one after it.
async fn page_cursors(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    pages: usize,
) -> anyhow::Result<Vec<String>> {
    let mut suffixes = vec![String::new()];
    while suffixes.len() < pages {
        let page: Value = client
            .get(format!(
                "{url}/v1/screening-requests?limit=25{}",
                suffixes[suffixes.len() - 1]
            ))
            .bearer_auth(key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        match page["next_cursor"].as_str() {
            Some(cursor) => suffixes.push(format!("&cursor={cursor}")),
            None => break,
        }
    }
    Ok(suffixes)
}

/// The subject's side: invitation tokens read from the mail drop, by recipient.
#[derive(Default)]
struct Mailbox {
    tokens: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Mailbox {
    /// Reads new `.eml` files as the service writes them (and removes them).
    async fn watch(self: Arc<Self>, dir: std::path::PathBuf) {
        loop {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.extension().is_none_or(|e| e != "eml") {
                        continue;
                    }
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    // Quoted-printable: undo soft line breaks before reading the link.
                    let text = text.replace("=\r\n", "").replace("=\n", "");
                    let to = text
                        .lines()
                        .find_map(|l| l.strip_prefix("To: "))
                        .map(str::to_owned);
                    let token = text.split("/s/").nth(1).map(|rest| {
                        rest.chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                            .collect::<String>()
                    });
                    if let (Some(to), Some(token), Ok(mut tokens)) = (to, token, self.tokens.lock())
                    {
                        tokens.insert(to, token);
                    }
                    let _ = std::fs::remove_file(&path);
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn token_for(&self, email: &str) -> anyhow::Result<String> {
        for _ in 0..4000 {
            if let Some(token) = self.tokens.lock().ok().and_then(|mut t| t.remove(email)) {
                return Ok(token);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        anyhow::bail!("no invitation for {email}")
    }
}

/// The checkers of a lifecycle run: one admin token to find tasks, and each checker's session.
struct Checkers {
    admin: String,
    sessions: std::collections::HashMap<String, String>,
}

async fn create_checkers(client: &reqwest::Client, args: &Args) -> anyhow::Result<Checkers> {
    let admin = login(client, &args.url, &args.admin_email, &args.admin_password).await?;
    let mut sessions = std::collections::HashMap::new();
    for _ in 0..16 {
        let email = format!("checker-{}@example.org", uuid::Uuid::new_v4().simple());
        let created: Value = client
            .post(format!("{}/v1/checkers", args.url))
            .bearer_auth(&admin)
            .json(&json!({"email": email, "name": "Load checker",
                          "authorisations": ["identity", "criminal_record", "reference", "misconduct_disclosure"],
                          "supervisor": false, "max_open_tasks": 10000, "conflicts": []}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let password = "load checker password";
        client
            .post(format!("{}/v1/auth/activate", args.url))
            .json(&json!({"token": created["activation_token"], "password": password}))
            .send()
            .await?
            .error_for_status()?;
        let id = created["checker"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        sessions.insert(id, login(client, &args.url, &email, password).await?);
    }
    Ok(Checkers { admin, sessions })
}

/// An authenticator app's code for the time step `offset` steps from now.
fn totp_code(secret: &str, offset: i64) -> anyhow::Result<String> {
    let secret = totp_rs::Secret::try_from_base32(secret)
        .map_err(|e| anyhow::anyhow!("TOTP secret: {e:?}"))?;
    let totp = totp_rs::Builder::new()
        .with_secret(secret.as_ref().to_vec())
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP: {e:?}"))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + offset * 30;
    Ok(totp.generate(now.max(0) as u64).to_string())
}

/// A signed-in user of the load organisation; with TOTP set up when `totp`: (e-mail, secret).
async fn sign_in_user(
    client: &reqwest::Client,
    args: &Args,
    admin: &str,
    organisation: &str,
    totp: bool,
) -> anyhow::Result<(String, Option<String>)> {
    let email = format!("user-{}@example.org", uuid::Uuid::new_v4().simple());
    let created: Value = client
        .post(format!(
            "{}/v1/organisations/{organisation}/users",
            args.url
        ))
        .bearer_auth(admin)
        .json(&json!({"email": email, "name": "Load user", "role": "org_requester"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let password = "load user password";
    client
        .post(format!("{}/v1/auth/activate", args.url))
        .json(&json!({"token": created["activation_token"], "password": password}))
        .send()
        .await?
        .error_for_status()?;
    if !totp {
        return Ok((email, None));
    }
    let session = login(client, &args.url, &email, password).await?;
    let started: Value = client
        .post(format!("{}/v1/me/totp", args.url))
        .bearer_auth(&session)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let secret = started["secret"].as_str().unwrap_or_default().to_owned();
    client
        .post(format!("{}/v1/me/totp/confirm", args.url))
        .bearer_auth(&session)
        .json(&json!({"code": totp_code(&secret, 0)?}))
        .send()
        .await?
        .error_for_status()?;
    Ok((email, Some(secret)))
}

/// `sign-in`: each user once, with the password alone or with the password and a code.
async fn sign_in(client: &reqwest::Client, args: &Args) -> anyhow::Result<()> {
    let admin = login(client, &args.url, &args.admin_email, &args.admin_password).await?;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let org: Value = client
        .post(format!("{}/v1/organisations", args.url))
        .bearer_auth(&admin)
        .json(
            &json!({"name": "Sign-in load", "registration_number": &suffix[..12], "country": "NL",
                      "operating_countries": ["UG"], "contact_email": "load@example.org"}),
        )
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let organisation = org["id"].as_str().unwrap_or_default().to_owned();
    for (label, with_totp) in [("sign-in-password", false), ("sign-in-totp", true)] {
        let mut users = Vec::new();
        for _ in 0..args.requests {
            users.push(sign_in_user(client, args, &admin, &organisation, with_totp).await?);
        }
        let users = Arc::new(Mutex::new(users));
        let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
        let errors = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..args.connections {
            let (client, url) = (client.clone(), args.url.clone());
            let (users, latencies, errors) = (
                Arc::clone(&users),
                Arc::clone(&latencies),
                Arc::clone(&errors),
            );
            workers.push(tokio::spawn(async move {
                loop {
                    let Some((email, secret)) = users.lock().await.pop() else {
                        break;
                    };
                    // The next step's code: the one enrolment used is spent.
                    let mut body = json!({"email": email, "password": "load user password"});
                    if let Some(secret) = &secret {
                        body["code"] = json!(totp_code(secret, 1).unwrap_or_default());
                    }
                    let begun = Instant::now();
                    let ok = client
                        .post(format!("{url}/v1/auth/login"))
                        .json(&body)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    latencies
                        .lock()
                        .await
                        .push(begun.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for worker in workers {
            worker.await?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let mut all = latencies.lock().await.clone();
        all.sort_unstable();
        println!(
            "{label} {} {:.0} {:.2} {:.2} {:.2} {}",
            all.len(),
            all.len() as f64 / elapsed,
            percentile(&all, 0.50),
            percentile(&all, 0.95),
            percentile(&all, 0.99),
            errors.load(Ordering::Relaxed)
        );
    }
    Ok(())
}

async fn login(
    client: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let login: Value = client
        .post(format!("{url}/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(login["token"].as_str().unwrap_or_default().to_owned())
}

/// One whole screening; returns the consent's latency in microseconds.
async fn lifecycle(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    n: u64,
    mailbox: &Mailbox,
    checkers: &Checkers,
) -> anyhow::Result<u32> {
    let email = format!("life{n}-{}@example.org", uuid::Uuid::new_v4().simple());
    let created: Value = client
        .post(format!("{url}/v1/screening-requests"))
        .bearer_auth(key)
        .json(&submission_for(n, &email))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let token = mailbox.token_for(&email).await?;
    let begun = Instant::now();
    client
        .post(format!("{url}/v1/invitations/{token}/consent"))
        .json(&json!({"consent": true}))
        .send()
        .await?
        .error_for_status()?;
    let consent_micros = begun.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
    // Complete whatever is assigned until nothing is: identity, then the checks after it.
    for _ in 0..10 {
        let tasks: Value = client
            .get(format!("{url}/v1/tasks?request_id={id}&status=assigned"))
            .bearer_auth(&checkers.admin)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let open = tasks["data"].as_array().cloned().unwrap_or_default();
        if open.is_empty() {
            break;
        }
        for task in open {
            let assignee = task["assignee_id"].as_str().unwrap_or_default();
            let session = checkers
                .sessions
                .get(assignee)
                .ok_or_else(|| anyhow::anyhow!("task assigned to an unknown checker"))?;
            client
                .post(format!(
                    "{url}/v1/tasks/{}/complete",
                    task["id"].as_str().unwrap_or_default()
                ))
                .bearer_auth(session)
                .json(&json!({"outcome": "no_concerns"}))
                .send()
                .await?
                .error_for_status()?;
        }
    }
    let done: Value = client
        .get(format!("{url}/v1/screening-requests/{id}"))
        .bearer_auth(key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    anyhow::ensure!(
        done["status"] == "cleared",
        "request {id} ended {}",
        done["status"]
    );
    Ok(consent_micros)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    if args.scenario == "sign-in" {
        return sign_in(&client, &args).await;
    }
    let key = setup(&client, &args).await?;
    if args.scenario == "upload" {
        return upload(&client, &args, &key).await;
    }
    let ids = Arc::new(match args.scenario.as_str() {
        "read" => seed(&client, &args.url, &key, 200, args.connections).await?,
        "portal" => {
            seed(&client, &args.url, &key, args.requests, args.connections).await?;
            caught_up(&client, &args.url).await?;
            Vec::new()
        }
        "list" => {
            seed(&client, &args.url, &key, args.requests, args.connections).await?;
            caught_up(&client, &args.url).await?;
            page_cursors(&client, &args.url, &key, 40).await?
        }
        _ => Vec::new(),
    });
    let mailbox = Arc::new(Mailbox::default());
    if ["lifecycle", "console", "tasks"].contains(&args.scenario.as_str()) {
        let dir = args
            .mail_dir
            .clone()
            .ok_or_else(|| anyhow::anyhow!("{} needs --mail-dir", args.scenario))?;
        tokio::spawn(Arc::clone(&mailbox).watch(dir));
    }
    let checkers = Arc::new(if args.scenario == "lifecycle" {
        Some(create_checkers(&client, &args).await?)
    } else {
        None
    });
    // The signed-in user's `Cookie` header (pages) or session token (`tasks`).
    let signed_in = Arc::new(match args.scenario.as_str() {
        "console" | "tasks" => {
            let (cookie, token) =
                console_checker(&client, &args, &key, Arc::clone(&mailbox)).await?;
            caught_up(&client, &args.url).await?;
            if args.scenario == "tasks" {
                token
            } else {
                cookie
            }
        }
        "portal" => portal_admin(&client, &args, &key).await?,
        _ => String::new(),
    });
    let consents = Arc::new(Mutex::new(Vec::<u32>::new()));

    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.connections {
        let (client, key, ids) = (client.clone(), key.clone(), Arc::clone(&ids));
        let signed_in = Arc::clone(&signed_in);
        let (mailbox, checkers, consents) = (
            Arc::clone(&mailbox),
            Arc::clone(&checkers),
            Arc::clone(&consents),
        );
        let (stop, counter, errors, latencies) = (
            Arc::clone(&stop),
            Arc::clone(&counter),
            Arc::clone(&errors),
            Arc::clone(&latencies),
        );
        let url = args.url.clone();
        let scenario = args.scenario.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::with_capacity(100_000);
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if let Some(checkers) = checkers.as_ref() {
                    let begun = Instant::now();
                    match lifecycle(&client, &url, &key, n, &mailbox, checkers).await {
                        Ok(consent) => consents.lock().await.push(consent),
                        Err(err) => {
                            eprintln!("lifecycle: {err}");
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    mine.push(begun.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    continue;
                }
                let request = match scenario.as_str() {
                    "submit" => client
                        .post(format!("{url}/v1/screening-requests"))
                        .header("idempotency-key", format!("load-{worker}-{n}"))
                        .json(&submission(n)),
                    "read" => client.get(format!(
                        "{url}/v1/screening-requests/{}",
                        ids[n as usize % ids.len()]
                    )),
                    // A page of 25, newest first: the first page, or one further on.
                    "list" => client.get(format!(
                        "{url}/v1/screening-requests?limit=25{}",
                        ids[n as usize % ids.len()]
                    )),
                    // The checker's queue page, signed in by the session cookie alone.
                    "console" => client
                        .get(format!("{url}/console/tasks"))
                        .header(reqwest::header::COOKIE, signed_in.as_str()),
                    // The organisation's request list page, newest first, by the cookie.
                    "portal" => client
                        .get(format!("{url}/org/requests"))
                        .header(reqwest::header::COOKIE, signed_in.as_str()),
                    // The same checker's tasks through the API, newest first.
                    "tasks" => client
                        .get(format!("{url}/v1/tasks?limit=25"))
                        .bearer_auth(signed_in.as_str()),
                    _ => client.get(format!("{url}/v1/me")),
                };
                let request = if ["console", "portal", "tasks"].contains(&scenario.as_str()) {
                    request
                } else {
                    request.bearer_auth(&key)
                };
                let begun = Instant::now();
                let ok = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        let _ = response.bytes().await;
                        status.is_success()
                    }
                    Err(_) => false,
                };
                mine.push(begun.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies.lock().await.extend(mine);
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = latencies.lock().await.clone();
    all.sort_unstable();
    println!(
        "{} {} {:.0} {:.2} {:.2} {:.2} {}",
        args.scenario,
        all.len(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.50),
        percentile(&all, 0.95),
        percentile(&all, 0.99),
        errors.load(Ordering::Relaxed)
    );
    if args.scenario == "lifecycle" {
        let mut consent = consents.lock().await.clone();
        consent.sort_unstable();
        println!(
            "consent {} {:.0} {:.2} {:.2} {:.2} 0",
            consent.len(),
            consent.len() as f64 / elapsed,
            percentile(&consent, 0.50),
            percentile(&consent, 0.95),
            percentile(&consent, 0.99),
        );
    }
    Ok(())
}
