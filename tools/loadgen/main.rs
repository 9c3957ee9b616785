//! Load generator: drives the real HTTP API and prints throughput and latency percentiles.
//!
//!   loadgen --url http://127.0.0.1:8080 --admin-email E --admin-password P \
//!           --scenario submit|read|me --connections 32 --seconds 15
//!
//! It signs in as the admin, creates an organisation and an API key, and then runs the
//! scenario from that many concurrent connections for that long.
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
    /// `submit`, `read` or `me`.
    #[arg(long)]
    scenario: String,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    #[arg(long, default_value_t = 15)]
    seconds: u64,
}

fn submission(n: u64) -> Value {
    json!({
        "profile": "child-contact-abroad",
        "reference": format!("LOAD-{n}"),
        "position": {"title": "Teacher", "role": "volunteer"},
        "deployment": {"country": "UG", "start_date": "2027-02-01"},
        "subject": {
            "given_names": "Jan Pieter", "family_name": "de Vries", "date_of_birth": "1990-04-12",
            "place_of_birth": "Utrecht", "country_of_birth": "NL", "nationalities": ["NL"],
            "email": format!("subject{n}@example.org"), "bsn": "123456782"
        }
    })
}

async fn setup(client: &reqwest::Client, args: &Args) -> anyhow::Result<String> {
    let login: Value = client
        .post(format!("{}/v1/auth/login", args.url))
        .json(&json!({"email": args.admin_email, "password": args.admin_password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["token"].as_str().unwrap_or_default().to_owned();
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

/// Creates `count` requests to read back.
async fn seed(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    count: u64,
) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for n in 0..count {
        let created: Value = client
            .post(format!("{url}/v1/screening-requests"))
            .bearer_auth(key)
            .json(&submission(n))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ids.push(created["id"].as_str().unwrap_or_default().to_owned());
    }
    Ok(ids)
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
        .build()?;
    let key = setup(&client, &args).await?;
    let ids = Arc::new(if args.scenario == "read" {
        seed(&client, &args.url, &key, 200).await?
    } else {
        Vec::new()
    });

    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.connections {
        let (client, key, ids) = (client.clone(), key.clone(), Arc::clone(&ids));
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
                let request = match scenario.as_str() {
                    "submit" => client
                        .post(format!("{url}/v1/screening-requests"))
                        .header("idempotency-key", format!("load-{worker}-{n}"))
                        .json(&submission(n)),
                    "read" => client.get(format!(
                        "{url}/v1/screening-requests/{}",
                        ids[n as usize % ids.len()]
                    )),
                    _ => client.get(format!("{url}/v1/me")),
                };
                let begun = Instant::now();
                let ok = match request.bearer_auth(&key).send().await {
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
    Ok(())
}
