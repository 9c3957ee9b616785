//! Opaque bearer tokens: a readable prefix and 256 bits of randomness. Only the SHA-256 hash of
//! a token is ever stored.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

pub const SESSION_PREFIX: &str = "ss_sess_";
pub const API_KEY_PREFIX: &str = "ss_key_";
/// A sandbox API key (`mode: sandbox`).
pub const SANDBOX_KEY_PREFIX: &str = "ss_test_";
pub const ACTIVATION_PREFIX: &str = "ss_act_";
pub const INVITATION_PREFIX: &str = "ss_inv_";
/// The browser session cookie's token: never accepted as a bearer token.
pub const BROWSER_PREFIX: &str = "ss_web_";
/// A browser sign-in waiting for its second factor.
pub const PENDING_LOGIN_PREFIX: &str = "ss_pend_";
pub const PASSWORD_RESET_PREFIX: &str = "ss_rst_";

/// A freshly generated token and the hash to store for it.
pub struct NewToken {
    pub token: String,
    pub hash: String,
}

pub fn generate(prefix: &str) -> NewToken {
    let random: [u8; 32] = rand::random();
    let token = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random));
    let hash = hash(&token);
    NewToken { token, hash }
}

/// 256 random bits without a prefix: a CSRF token.
pub fn random_secret() -> String {
    let random: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(random)
}

/// SHA-256 of the token, lower-case hex.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// True when the text could be a token of this kind (prefix and length), so garbage never
/// reaches the database.
pub fn looks_like(token: &str, prefix: &str) -> bool {
    token.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = generate(SESSION_PREFIX);
        let b = generate(SESSION_PREFIX);
        assert!(a.token.starts_with("ss_sess_"));
        assert_ne!(a.token, b.token);
        assert_eq!(a.hash, hash(&a.token));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.token));
        assert!(looks_like(&a.token, SESSION_PREFIX));
        assert!(!looks_like(&a.token, API_KEY_PREFIX));
        assert!(!looks_like("ss_sess_short", SESSION_PREFIX));
    }
}
