//! `safescreen demo`: an organisation with an org_admin and an API key, and requests in every
//! state reached so far, with the credentials printed.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::EntityTrait;
use time::macros::date;

use crate::{
    auth::{Principal, PrincipalKind},
    bootstrap, db,
    domain::{CountryCode, Email, OrgRole, PositionRole, Role, subject::Subject},
    engine::{commands, transition::Event},
    services::{
        accounts, api_keys,
        organisations::{self, NewOrganisation},
        submissions::{self, NewRequest, Submitted},
        users::{self, NewUser},
    },
    state::AppState,
};
use entity::{screening_request, user};

fn admin_principal(admin: &user::Model) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: admin.id,
        role: Role::Admin,
        organisation_id: None,
        supervisor: false,
        session_id: None,
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
    let (key_row, key) = api_keys::create(state, &as_admin, org.id, "demo".into()).await?;
    let as_key = Principal {
        kind: PrincipalKind::ApiKey,
        id: key_row.id,
        role: Role::OrgRequester,
        organisation_id: Some(org.id),
        supervisor: false,
        session_id: None,
    };

    println!("Organisation {} ({})", org.name, org.id);
    println!("  org_admin: {org_admin_email} / {password}");
    println!("  API key:   {key}");
    println!("Requests:");
    let steps: [(&str, &[Event]); 5] = [
        ("awaiting_consent", &[]),
        ("in_progress", &[Event::Consented]),
        ("declined", &[Event::Declined]),
        ("withdrawn", &[Event::Withdrawn]),
        ("lapsed", &[Event::ConsentLapsed]),
    ];
    for (n, (label, events)) in steps.iter().enumerate() {
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
            commands::apply(&txn, &current, *event, "system:demo").await?;
            txn.commit().await?;
        }
        println!("  {:<17} {}", label, view.request.id);
    }
    println!();
    println!("Try:");
    println!(
        "  curl -H 'Authorization: Bearer {key}' {}/v1/screening-requests",
        state.config.public_url
    );
    println!(
        "The subjects' invitation e-mails (with their personal links) go to the mail drop: {}",
        state.config.mail_dir.display()
    );
    Ok(())
}
