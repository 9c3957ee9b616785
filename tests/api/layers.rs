//! The direction of calls, held by a scan of the source. The layers are `domain/` at the
//! bottom, the engine over it, the services over the engine, and the API and the pages side by
//! side over the services (architecture.md). Whoever adds a console page or an engine feature
//! should find each rule in one place and each call going down; this test fails the change
//! that makes one go up or sideways, naming the file and the module it reached for.
use std::{fs, path::Path};

/// Which top-level modules of the crate a layer must never use.
const FORBIDDEN: [(&str, &[&str]); 5] = [
    ("domain", &["engine", "services", "api", "web"]),
    ("engine", &["services", "api", "web"]),
    ("services", &["api", "web"]),
    ("api", &["web"]),
    ("web", &["api"]),
];

/// The top-level modules a file names through `crate::…`, braces expanded
/// (`use crate::{api::x, services::{a, b}}` names `api` and `services`).
fn crate_modules_used(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut used = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // The top-level items of the group: split at commas outside inner braces.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        used.push(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            used.push(first_segment(&item));
        } else {
            used.push(first_segment(after));
        }
        rest = after;
    }
    used.retain(|m| !m.is_empty());
    used
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

pub fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn calls_go_down_the_layers_and_never_between_the_api_and_the_pages() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (layer, forbidden) in FORBIDDEN {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "no files under src/{layer}");
        for file in files {
            let source = fs::read_to_string(&file).unwrap();
            for module in crate_modules_used(&source) {
                if forbidden.contains(&module.as_str()) {
                    violations.push(format!(
                        "{} uses crate::{module}",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    violations.sort();
    violations.dedup();
    assert!(
        violations.is_empty(),
        "calls against the layers:\n{}",
        violations.join("\n")
    );
}

/// The scan itself: what it must see, and what it must not be fooled by.
#[test]
fn the_scan_finds_paths_in_groups_and_ignores_comments() {
    let source = "use crate::{\n    audit,\n    services::{a, b},\n    web::x, // crate::api in a comment\n};\nfn f() { crate::engine::tasks::open(); }\n// crate::cli\n";
    assert_eq!(
        crate_modules_used(source),
        ["audit", "services", "web", "engine"]
    );
}
