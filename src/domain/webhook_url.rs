//! Where an organisation's webhooks go: the one rule for a target URL, checked here and
//! written into the OpenAPI document by [`pattern`] (a test holds the two together).
//!
//! `https://`, a host name on the public internet (`dns`), an optional port 1–65535, a path
//! and a query of RFC 3986's characters; no credentials, no fragment, no IP address. Whether
//! the name resolves to a forbidden address is not syntax: the service asks DNS when the
//! endpoint is registered and again at every delivery. With private targets allowed (for
//! development) `http`, IP addresses and one-label names such as `localhost` are taken too.
use std::{
    fmt,
    net::{Ipv4Addr, Ipv6Addr},
};

use super::dns;

/// A target URL that passed the rule, its host in lower case.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.0)
    }
}

pub const MAX_LEN: usize = 2000;

/// A character of a path segment (`pchar`) besides a percent-encoded octet.
const PATH_CHAR: &str = r"[A-Za-z0-9._~!$&'()*+,;=:@/-]";
/// A character of a query.
const QUERY_CHAR: &str = r"[A-Za-z0-9._~!$&'()*+,;=:@/?-]";
const PERCENT: &str = "%[0-9A-Fa-f]{2}";
const PORT: &str =
    "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})";

/// The rule without private targets, as a regular expression (ECMA-262, as JSON Schema's
/// `pattern`).
pub fn pattern() -> String {
    format!(
        "^https://(?![^/:?#]{{{over}}}){name}(:{PORT})?(/({PATH_CHAR}|{PERCENT})*)?(\\?({QUERY_CHAR}|{PERCENT})*)?$",
        over = dns::MAX_NAME + 1,
        name = dns::NAME_PATTERN,
    )
}

/// Checks a target URL against the rule; the message says what to fix. The url crate is not
/// asked: it takes what RFC 3986 does not (`*` and `$` in a name, spaces, a stray `%`).
pub fn parse(text: &str, allow_private: bool) -> Result<WebhookUrl, String> {
    if text.len() > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    if !text.is_ascii() {
        return Err(
            "must be written in ASCII: percent-encode the path, write an international domain \
             name in punycode (xn--…)"
                .into(),
        );
    }
    let (scheme, rest) = if let Some(rest) = text.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = text.strip_prefix("http://").filter(|_| allow_private) {
        ("http", rest)
    } else if text.contains("://") {
        return Err("must be an https URL".into());
    } else {
        return Err("is not an absolute URL (https://…)".into());
    };
    if rest.contains('#') {
        return Err("must not have a fragment (#…)".into());
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err("must not carry credentials".into());
    }
    check_authority(authority, allow_private)?;
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    if !is_uri_part(path, |b| b"._~!$&'()*+,;=:@/-".contains(&b))
        || !query.is_none_or(|q| is_uri_part(q, |b| b"._~!$&'()*+,;=:@/?-".contains(&b)))
    {
        return Err(
            "must have a path and query of the characters RFC 3986 allows (percent-encode others)"
                .into(),
        );
    }
    Ok(WebhookUrl(format!(
        "{scheme}://{}{path_and_query}",
        authority.to_ascii_lowercase()
    )))
}

/// The host and the optional port.
fn check_authority(authority: &str, allow_private: bool) -> Result<(), String> {
    const IP_ADDRESS: &str = "must name a host, not an IP address";
    // An IPv6 address is bracketed, so its colons are not the port's.
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((address, "")) => (address, None),
            Some((address, after)) => match after.strip_prefix(':') {
                Some(port) => (address, Some(port)),
                None => return Err("must have only a port after an IPv6 address".into()),
            },
            None => return Err("must close an IPv6 address with `]`".into()),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if let Some(port) = port {
        let valid = !port.starts_with('0')
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err("must have a port from 1 to 65535".into());
        }
    }
    if authority.starts_with('[') {
        return match host.parse::<Ipv6Addr>() {
            Ok(_) if allow_private => Ok(()),
            Ok(_) => Err(IP_ADDRESS.into()),
            Err(_) => Err("must have a valid IPv6 address".into()),
        };
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return if allow_private {
            Ok(())
        } else {
            Err(IP_ADDRESS.into())
        };
    }
    if allow_private {
        dns::check_local_name(host)
    } else {
        dns::check_name(host)
    }
}

/// Letters, digits, the given punctuation and percent-encoded octets only.
fn is_uri_part(text: &str, punctuation: impl Fn(u8) -> bool) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes
            .get(i + 1..i + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        _ => b.is_ascii_alphanumeric() || punctuation(b),
    })
}
