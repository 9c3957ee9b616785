//! The committed OpenAPI document matches the code; `UPDATE_OPENAPI=1` rewrites it.
use std::{collections::BTreeMap, path::Path};

use serde_json::Value;

use crate::helpers::*;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn committed_document_matches_the_code() {
    let generated = safescreen::openapi::document_json();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(COMMITTED, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test openapi` and commit it"
    );
}

#[test]
fn document_is_openapi_3_1_with_problem_errors() {
    let value: serde_json::Value =
        serde_json::from_str(safescreen::openapi::document_json()).unwrap();
    assert!(value["openapi"].as_str().unwrap().starts_with("3.1"));
    let login = &value["paths"]["/v1/auth/login"]["post"];
    assert!(login["responses"]["429"]["content"]["application/problem+json"].is_object());
    assert!(value["components"]["securitySchemes"]["bearer"].is_object());
    assert!(value["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn served_document_is_the_committed_one_and_docs_work_offline() {
    let app = spawn_app().await;
    let served = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let mut served: Value = served.json().await.unwrap();
    let mut committed: Value = serde_json::from_str(safescreen::openapi::document_json()).unwrap();
    // The same document but for `servers`, which names this service.
    assert_eq!(served["servers"][0]["url"], "http://127.0.0.1:0");
    served["servers"] = Value::Null;
    committed["servers"] = Value::Null;
    assert!(
        served == committed,
        "the served document is the committed one"
    );
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.to_lowercase().contains("swagger"), "{html}");
    let initializer = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(initializer.status(), 200);
    assert!(initializer.text().await.unwrap().contains("/openapi.json"));
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200, "Swagger UI is served from the binary");
}

fn committed() -> Value {
    serde_json::from_str(safescreen::openapi::document_json()).unwrap()
}

/// Every operation of the document, as `METHOD path` and its object.
fn operations(document: &Value) -> Vec<(String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    all
}

#[tokio::test]
async fn servers_name_the_public_url() {
    assert_eq!(committed()["servers"][0]["url"], "http://127.0.0.1:8080");
    let app = spawn_app_with(&[("SAFESCREEN_PUBLIC_URL", "https://screening.example.org/")]).await;
    let served: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served["servers"][0]["url"], "https://screening.example.org");
}

#[test]
fn every_operation_states_its_security_a_2xx_and_its_4xx_answers() {
    let document = committed();
    for (name, operation) in operations(&document) {
        let security = operation["security"].as_array();
        assert!(security.is_some(), "{name} states no security");
        let codes: Vec<&String> = operation["responses"].as_object().unwrap().keys().collect();
        assert!(
            codes.iter().any(|c| c.starts_with('2')),
            "{name}: no 2xx in {codes:?}"
        );
        assert!(
            codes.iter().any(|c| c.starts_with('4')),
            "{name}: no 4xx in {codes:?}"
        );
        let public = security.unwrap().is_empty();
        for code in &codes {
            let response = &operation["responses"][code.as_str()];
            if code.starts_with('4') || code.starts_with('5') {
                let content = response["content"].as_object().unwrap();
                assert!(
                    content.contains_key("application/problem+json")
                        || content.contains_key("text/html"),
                    "{name} {code} is not a Problem"
                );
            }
            // Authenticated callers are rate limited: every answer says how far.
            if !public {
                assert!(
                    response["headers"]["RateLimit"].is_object(),
                    "{name} {code} lacks RateLimit"
                );
            }
        }
        if !public {
            assert!(
                operation["responses"]["429"]["headers"]["Retry-After"].is_object(),
                "{name}: no 429 with Retry-After"
            );
        }
        if let Some(body) = operation.get("requestBody") {
            for (media, content) in body["content"].as_object().unwrap() {
                // `{"$ref"}`, or a `oneOf` of it and null for a body that may be left out.
                let reference = content["schema"]["$ref"].as_str().or_else(|| {
                    content["schema"]["oneOf"]
                        .as_array()
                        .and_then(|all| all.iter().find_map(|s| s["$ref"].as_str()))
                });
                let schema = reference
                    .and_then(|r| r.rsplit('/').next())
                    .map(|n| &document["components"]["schemas"][n]);
                let example = content.get("example").is_some()
                    || schema.is_some_and(|s| s["examples"].is_array());
                assert!(example, "{name} {media}: a request body without an example");
            }
        }
    }
}

#[test]
fn enums_hold_each_value_once_and_every_component_is_used() {
    let document = committed();
    fn walk(value: &Value, at: &str, refs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(values) = map.get("enum").and_then(Value::as_array) {
                    let mut seen = Vec::new();
                    for v in values {
                        assert!(!seen.contains(&v), "{at}: {v} twice in an enum");
                        seen.push(v);
                    }
                }
                if let Some(target) = map.get("$ref").and_then(Value::as_str) {
                    refs.push(target.to_owned());
                }
                for (key, inner) in map {
                    walk(inner, &format!("{at}/{key}"), refs);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, at, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(&document, "#", &mut refs);
    for (kind, components) in document["components"].as_object().unwrap() {
        if kind == "securitySchemes" {
            continue;
        }
        for name in components.as_object().unwrap().keys() {
            let target = format!("#/components/{kind}/{name}");
            assert!(refs.contains(&target), "{target} is never used");
        }
    }
}

#[test]
fn links_name_operations_that_exist() {
    let document = committed();
    let ids: Vec<&str> = operations(&document)
        .iter()
        .filter_map(|(_, op)| op["operationId"].as_str())
        .collect();
    let mut links = 0;
    for (name, operation) in operations(&document) {
        for response in operation["responses"].as_object().unwrap().values() {
            for link in response["links"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, l)| l)
            {
                let target = link["operationId"].as_str().unwrap();
                assert!(ids.contains(&target), "{name} links to unknown {target}");
                links += 1;
            }
        }
    }
    let submit = &document["paths"]["/v1/screening-requests"]["post"]["responses"]["201"];
    for link in [
        "GetRequest",
        "GetRequestEvents",
        "WithdrawRequest",
        "RescreenRequest",
    ] {
        assert!(submit["links"][link].is_object(), "submit lacks {link}");
    }
    assert!(links >= 8, "{links} links");
}

/// utoipa keys components by a type's name: two types of one name would silently share a
/// schema, and the document would describe one of them wrongly. Every type that derives
/// `ToSchema` (under its `#[schema(as = …)]` name if it has one) has a name of its own.
#[test]
fn no_two_schema_types_share_a_name() {
    let mut files = Vec::new();
    crate::layers::rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                continue;
            }
            let mut renamed = None;
            for next in &lines[i + 1..] {
                let next = next.trim();
                if let Some(rest) = next
                    .split("as = ")
                    .nth(1)
                    .filter(|_| next.starts_with("#[schema("))
                {
                    renamed = Some(rest.trim_end_matches([')', ']']).trim().to_owned());
                }
                let declared = [
                    "pub struct ",
                    "pub enum ",
                    "struct ",
                    "enum ",
                    "pub(crate) struct ",
                ]
                .iter()
                .find_map(|kw| next.strip_prefix(kw));
                if let Some(rest) = declared {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let shown = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
                    names
                        .entry(renamed.take().unwrap_or(name))
                        .or_default()
                        .push(shown.display().to_string());
                    break;
                }
            }
        }
    }
    assert!(names.len() > 50, "found only {} schema types", names.len());
    let shared: Vec<_> = names.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(
        shared.is_empty(),
        "schema names used by more than one type: {shared:?}"
    );
}

#[tokio::test]
async fn operations_that_answer_in_one_media_type_refuse_an_accept_without_it() {
    let app = spawn_app().await;
    let get = |path: &'static str, accept: &'static str| {
        app.client
            .get(app.url(path))
            .header("Accept", accept)
            .send()
    };
    for (path, accept) in [
        ("/healthz", "text/plain"),
        ("/healthz", "*/*"),
        ("/readyz", "text/*"),
        (
            "/metrics",
            "application/openmetrics-text;q=0.5, text/plain;version=0.0.4;q=0.3",
        ),
        ("/openapi.json", "application/json"),
        ("/.well-known/jwks.json", "application/json, */*;q=0.1"),
    ] {
        assert_eq!(
            get(path, accept).await.unwrap().status(),
            200,
            "{path} {accept}"
        );
    }
    for (path, accept) in [
        ("/healthz", "application/json"),
        ("/metrics", "text/plain;q=0"),
        ("/openapi.json", "text/html"),
        ("/.well-known/jwks.json", "application/xml"),
    ] {
        let answer = get(path, accept).await.unwrap();
        assert_eq!(answer.status(), 406, "{path} {accept}");
        assert_eq!(
            answer.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let problem: Value = answer.json().await.unwrap();
        assert_eq!(problem["type"], "urn:safescreen:problem:not-acceptable");
    }
}
