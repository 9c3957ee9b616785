//! Host names on the public internet: the one rule that webhook URLs and e-mail domains share.
//!
//! A name is two or more labels of letters, digits and hyphens (RFC 1123; international names
//! in their punycode form, `xn--…`), each 1 to 63 characters and neither starting nor ending
//! with a hyphen, 253 characters in all, without a trailing dot; the last label (the top-level
//! domain) starts with a letter, which also tells a name from an IPv4 address.

/// Longest name (RFC 1035, without the trailing dot).
pub const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

/// The rule as a regular expression without anchors, for the OpenAPI document, except for
/// the length of the whole name, which whoever embeds it states (see `webhook_url`; an e-mail
/// address is short enough for its domain never to reach it).
pub const NAME_PATTERN: &str =
    r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?";

/// Checks a host name against the rule; the message says what to fix.
pub fn check_name(name: &str) -> Result<(), String> {
    check(name, 2)
}

/// The same, but one label will do (`localhost`, a development machine's name).
pub fn check_local_name(name: &str) -> Result<(), String> {
    check(name, 1)
}

fn check(name: &str, min_labels: usize) -> Result<(), String> {
    if name.is_empty() {
        return Err("must name a host".into());
    }
    if !name.is_ascii() {
        return Err("must write an international domain name in its punycode form (xn--…)".into());
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "must have a host name of at most {MAX_NAME} characters"
        ));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < min_labels {
        return Err("must have a full domain name (like example.org)".into());
    }
    for label in &labels {
        if label.is_empty() {
            return Err(
                "must not have an empty part in the host name (two dots, or a dot at either end)"
                    .into(),
            );
        }
        if label.len() > MAX_LABEL {
            return Err(format!(
                "must have host name parts of at most {MAX_LABEL} characters"
            ));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("must have a host name of letters, digits, hyphens and dots only".into());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("must not start or end a part of the host name with a hyphen".into());
        }
    }
    let top = labels[labels.len() - 1];
    if !top.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(
            "must end the host name in a top-level domain that starts with a letter".into(),
        );
    }
    Ok(())
}
