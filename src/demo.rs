//! `safescreen demo`: an organisation with an org_admin and an API key, checkers with each
//! authorisation (and a supervisor), and requests in every state of their life, with the
//! credentials printed.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use time::macros::date;

use crate::{
    auth::{Principal, PrincipalKind},
    bootstrap, db,
    domain::{Authorisation, CountryCode, Email, OrgRole, PositionRole, Role, subject::Subject},
    engine::{commands, tasks as engine_tasks, transition::Event},
    services::AppState,
    services::{
        accounts, api_keys,
        checkers::{self, NewChecker},
        factors,
        organisations::{self, NewOrganisation},
        submissions::{self, NewRequest, Submitted},
        tasks::{self, Completion},
        users::{self, NewUser},
    },
};
use entity::{screening_request, task, user};

const CHECKER_PASSWORD: &str = "demo checker password";

/// What the demo's principals hold besides who they are: it acts for its users as if each had
/// just entered a second factor (step-up has no one to ask here).
fn acting() -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: uuid::Uuid::nil(),
        role: Role::Checker,
        organisation_id: None,
        supervisor: false,
        session_id: None,
        with_factor: true,
        factor_verified_at: Some(crate::db::now()),
        enrolment_only: false,
        csrf_token: None,
        sandbox: false,
    }
}

/// The code an authenticator app with this base32 secret shows now.
fn current_code(secret: &str) -> anyhow::Result<String> {
    let secret = totp_rs::Secret::try_from_base32(secret)
        .map_err(|e| anyhow::anyhow!("TOTP secret: {e:?}"))?;
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP parameters: {e:?}"))?;
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    Ok(totp.generate(now).to_string())
}

fn checker_principal(checker: &user::Model) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: checker.id,
        role: Role::Checker,
        organisation_id: None,
        supervisor: false,
        ..acting()
    }
}

/// One step of a demo request's life: the subject responds or objects, or the assignee of the
/// request's (first) open task completes it with `outcome`.
async fn advance(
    state: &AppState,
    request_id: uuid::Uuid,
    outcome: &str,
    checkers: &[user::Model],
) -> anyhow::Result<()> {
    if outcome == "respond" || outcome == "object" {
        let txn = db::begin_write(&state.db_write).await?;
        let request = screening_request::Entity::find_by_id(request_id)
            .one(&txn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo request vanished"))?;
        let definition = state
            .engine
            .definitions
            .get(&txn, &request.workflow_key, request.workflow_version)
            .await?;
        if outcome == "respond" {
            engine_tasks::start_final_review(&txn, request, &definition, "system:demo").await?;
        } else {
            engine_tasks::start_objection_review(&txn, request, &definition, "system:demo").await?;
        }
        txn.commit().await?;
        return Ok(());
    }
    let open = task::Entity::find()
        .filter(task::Column::RequestId.eq(request_id))
        .filter(task::Column::Status.eq("assigned"))
        .order_by_asc(task::Column::Id)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo request {request_id} has no assigned task"))?;
    let assignee = checkers
        .iter()
        .find(|c| Some(c.id) == open.assignee_id)
        .ok_or_else(|| anyhow::anyhow!("a demo task went to someone else"))?;
    let grounds = (outcome == "refuse")
        .then(|| "Demo: a conviction relevant to work with children.".to_owned());
    tasks::complete(
        state,
        &checker_principal(assignee),
        open.id,
        Completion {
            outcome: outcome.to_owned(),
            notes: Some("Demo notes.".into()),
            grounds,
        },
    )
    .await?;
    Ok(())
}

fn admin_principal(admin: &user::Model) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: admin.id,
        role: Role::Admin,
        organisation_id: None,
        supervisor: false,
        ..acting()
    }
}

fn subject(n: usize) -> Subject {
    Subject {
        given_names: format!("Demo {n}"),
        family_name: "Vrijwilliger".into(),
        date_of_birth: "1995-06-15".into(),
        place_of_birth: "Utrecht".into(),
        country_of_birth: "NL".into(),
        nationalities: vec!["NL".into()],
        email: format!("subject{n}@demo.example.org"),
        bsn: None,
        previous_employers: Vec::new(),
        referees: Vec::new(),
        decline_message: None,
        statement: None,
        objection: None,
    }
}

pub async fn run(state: &AppState) -> anyhow::Result<()> {
    bootstrap::ensure_admin(state).await?;
    let admin = user::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .find(|u| u.role == Role::Admin.as_str())
        .ok_or_else(|| anyhow::anyhow!("no admin"))?;
    let as_admin = admin_principal(&admin);
    let suffix = URL_SAFE_NO_PAD
        .encode(rand::random::<[u8; 3]>())
        .to_lowercase();

    let org = organisations::create(
        state,
        &as_admin,
        NewOrganisation {
            name: format!("Demo Kids Abroad {suffix}"),
            registration_number: format!("DEMO-{suffix}"),
            country: CountryCode::parse("NL").map_err(anyhow::Error::msg)?,
            operating_countries: vec![CountryCode::parse("UG").map_err(anyhow::Error::msg)?],
            contact_email: Email::parse("office@demo.example.org").map_err(anyhow::Error::msg)?,
        },
    )
    .await?;
    let org_admin_email = format!("orgadmin-{suffix}@demo.example.org");
    let (_, activation) = users::create(
        state,
        &as_admin,
        org.id,
        NewUser {
            email: Email::parse(&org_admin_email).map_err(anyhow::Error::msg)?,
            name: "Demo org admin".into(),
            role: OrgRole::OrgAdmin.into(),
        },
    )
    .await?;
    let password = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
    accounts::activate(state, &activation, password.clone()).await?;
    let (key_row, key) = api_keys::create(state, &as_admin, org.id, "demo".into(), false).await?;
    let as_key = Principal {
        kind: PrincipalKind::ApiKey,
        id: key_row.id,
        role: Role::OrgRequester,
        organisation_id: Some(org.id),
        supervisor: false,
        ..acting()
    };

    println!("Organisation {} ({})", org.name, org.id);
    println!("  org_admin: {org_admin_email} / {password}");
    println!("  API key:   {key}");
    println!("Checkers (password {CHECKER_PASSWORD}):");
    let mut checkers = Vec::new();
    for (name, authorisations, supervisor) in [
        (
            "identity and records",
            &[Authorisation::Identity, Authorisation::CriminalRecord][..],
            false,
        ),
        (
            "misconduct and references",
            &[
                Authorisation::MisconductDisclosure,
                Authorisation::Reference,
            ][..],
            false,
        ),
        ("assessor one", &[Authorisation::Assessment][..], false),
        ("assessor two", &[Authorisation::Assessment][..], false),
        ("assessor three", &[Authorisation::Assessment][..], false),
        ("supervisor", &[Authorisation::Assessment][..], true),
    ] {
        let email = format!("{}-{suffix}@demo.example.org", name.replace(' ', "-"));
        let (view, activation) = checkers::create(
            state,
            &as_admin,
            NewChecker {
                email: Email::parse(&email).map_err(anyhow::Error::msg)?,
                name: format!("Demo {name}"),
                authorisations: authorisations.iter().copied().collect(),
                supervisor,
                max_open_tasks: 50,
                conflicts: Default::default(),
            },
        )
        .await?;
        accounts::activate(state, &activation, CHECKER_PASSWORD.into()).await?;
        // Staff sign in with a second factor: each demo checker gets an authenticator app
        // whose secret is printed, to add to a real app, and two of their recovery codes.
        let principal = checker_principal(&view.user);
        let enrolment = factors::start_totp(state, &principal).await?;
        let recovery =
            factors::confirm_totp(state, &principal, &current_code(&enrolment.secret)?).await?;
        println!("  {email:<48} {name}");
        println!(
            "      TOTP secret {}  recovery codes {} {}",
            enrolment.secret, recovery[0], recovery[1]
        );
        checkers.push(view.user);
    }

    println!("Requests:");
    let mut cleared = None;
    let steps: [(&str, &[Event], &[&str]); 11] = [
        ("awaiting_consent", &[], &[]),
        ("in_progress", &[Event::Consented], &[]),
        (
            "cleared",
            &[Event::Consented],
            &["no_concerns", "no_concerns", "no_concerns"],
        ),
        (
            "assessment",
            &[Event::Consented],
            &["no_concerns", "concerns", "no_concerns"],
        ),
        (
            "intent_to_refuse",
            &[Event::Consented],
            &["no_concerns", "concerns", "no_concerns", "refuse", "concur"],
        ),
        (
            "final_review",
            &[Event::Consented],
            &[
                "no_concerns",
                "concerns",
                "no_concerns",
                "refuse",
                "concur",
                "respond",
            ],
        ),
        (
            "refused",
            &[Event::Consented],
            &[
                "no_concerns",
                "concerns",
                "no_concerns",
                "refuse",
                "concur",
                "respond",
                "refuse",
            ],
        ),
        (
            "objection_review",
            &[Event::Consented],
            &[
                "no_concerns",
                "concerns",
                "no_concerns",
                "refuse",
                "concur",
                "respond",
                "refuse",
                "object",
            ],
        ),
        ("declined", &[Event::Declined], &[]),
        ("withdrawn", &[Event::Withdrawn], &[]),
        ("lapsed", &[Event::ConsentLapsed], &[]),
    ];
    for (n, (label, events, outcomes)) in steps.iter().enumerate() {
        let submitted = submissions::submit(
            state,
            &as_key,
            NewRequest {
                profile: "child-contact-abroad".into(),
                reference: format!("DEMO-{}", n + 1),
                position_title: "Teacher".into(),
                position_description: Some("Primary school in Gulu".into()),
                role: PositionRole::Volunteer,
                deployment_country: CountryCode::parse("UG").map_err(anyhow::Error::msg)?,
                deployment_start_date: date!(2027 - 02 - 01),
                subject: subject(n + 1),
            },
            None,
            None,
        )
        .await?;
        let (Submitted::Created(view) | Submitted::Replayed(view)) = submitted;
        for event in events.iter() {
            let txn = db::begin_write(&state.db_write).await?;
            let current = screening_request::Entity::find_by_id(view.request.id)
                .one(&txn)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo request vanished"))?;
            let moved = commands::apply(&txn, &current, *event, "system:demo").await?;
            if *event == Event::Consented {
                let definition = state
                    .engine
                    .definitions
                    .get(&txn, &moved.workflow_key, moved.workflow_version)
                    .await?;
                engine_tasks::start(&state.engine, &txn, moved, &definition).await?;
            }
            txn.commit().await?;
        }
        for outcome in outcomes.iter() {
            advance(state, view.request.id, outcome, &checkers).await?;
        }
        println!("  {:<17} {}", label, view.request.id);
        if *label == "cleared" {
            cleared = Some(view.request.id);
        }
    }
    println!();
    println!(
        "The console: sign in at {}/login as a checker (password, then a code from the secret \
         above or a recovery code); the queue is {0}/console/tasks.",
        state.config.public_url
    );
    println!(
        "The organisation portal: sign in at {}/login as {org_admin_email} with the password \
         {password}; the requests are at {0}/org/requests.",
        state.config.public_url
    );
    if let Some(cleared) = cleared {
        println!(
            "  The cleared request's certificate: {}/org/requests/{cleared}/certificate \
             (its QR code opens {0}/verify).",
            state.config.public_url
        );
    }
    println!("Try:");
    println!(
        "  curl -H 'Authorization: Bearer {key}' {}/v1/screening-requests",
        state.config.public_url
    );
    if let Some(cleared) = cleared {
        // The clearance's certificate, and its verification as a third party would ask.
        println!(
            "  curl -H 'Authorization: Bearer {key}' {}/v1/screening-requests/{cleared}/certificate",
            state.config.public_url
        );
        println!(
            "  curl -d '{{\"jws\": \"<the certificate's jws>\"}}' -H 'Content-Type: application/json' {}/v1/certificates/verify",
            state.config.public_url
        );
    }
    println!(
        "The subjects' invitation e-mails (with their personal links) go to the mail drop: {}",
        state.config.mail_dir.display()
    );
    Ok(())
}
