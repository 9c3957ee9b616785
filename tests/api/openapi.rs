//! The committed OpenAPI document matches the code; `UPDATE_OPENAPI=1` rewrites it.
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
    assert_eq!(
        served.text().await.unwrap(),
        safescreen::openapi::document_json()
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
