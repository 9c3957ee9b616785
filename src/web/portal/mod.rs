//! The organisation portal (`/org`, web.md): an organisation's requests, new ones one at a time
//! or from a CSV file, their certificates, and for its admins the users, API keys and webhook
//! endpoints. Every page shows the organisation's view of `/v1` and nothing more: the same
//! services build it.
use maud::{Markup, html};

use super::i18n::t;
use crate::{
    auth::Principal,
    domain::{OrgStatus, Role},
};

pub mod new_request;
pub mod requests;
pub mod settings;
pub mod upload;

/// The portal's own navigation, below the site header; the settings for org admins only.
pub fn nav(principal: &Principal, current: &str) -> Markup {
    let mut links = vec![
        ("/org/requests", t("portal-nav-requests")),
        ("/org/requests/new", t("portal-nav-new")),
        ("/org/requests/upload", t("portal-nav-upload")),
    ];
    if principal.role == Role::OrgAdmin {
        links.push(("/org/users", t("portal-nav-users")));
        links.push(("/org/api-keys", t("portal-nav-api-keys")));
        links.push(("/org/webhooks", t("portal-nav-webhooks")));
    }
    html! {
        nav.console aria-label=(t("portal-nav-label")) {
            ul {
                @for (href, label) in &links {
                    li { a href=(href) aria-current=[(*href == current).then_some("page")] { (label) } }
                }
            }
        }
    }
}

/// A status of the organisation's view as people say it.
pub fn status_label(status: OrgStatus) -> String {
    match status {
        OrgStatus::AwaitingConsent => t("org-status-awaiting-consent"),
        OrgStatus::InProgress => t("org-status-in-progress"),
        OrgStatus::Cleared => t("org-status-cleared"),
        OrgStatus::Refused => t("org-status-refused"),
        OrgStatus::Withdrawn => t("org-status-withdrawn"),
        OrgStatus::Declined => t("org-status-declined"),
        OrgStatus::Lapsed => t("org-status-lapsed"),
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) made inert with a leading apostrophe (OWASP's advice on CSV injection).
pub fn inert_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_looking_cells_are_made_inert() {
        assert_eq!(inert_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert_cell("+31 6"), "'+31 6");
        assert_eq!(inert_cell("-1"), "'-1");
        assert_eq!(inert_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert_cell("\t=1"), "'\t=1");
        assert_eq!(inert_cell("Jan de Vries"), "Jan de Vries");
        assert_eq!(inert_cell("a=b"), "a=b");
    }
}
