//! Certificate signing: Ed25519 keys, their JWKs, and JWS in compact serialisation
//! (RFC 7515, `alg: EdDSA` per RFC 8037). Pure: where the keys live is `services::certificates`.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "EdDSA";

/// Longer than any certificate we sign by far; anything longer is not ours.
pub const MAX_JWS_LEN: usize = 8 * 1024;

/// A new random key.
pub fn generate() -> SigningKey {
    SigningKey::from_bytes(&rand::random())
}

/// The key id: the RFC 7638 thumbprint of the public JWK, so importing the same seed twice
/// gives the same key.
pub fn kid_of(public: &VerifyingKey) -> String {
    // The required members in lexicographic order, no whitespace (RFC 7638, 3.2).
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public.as_bytes())
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The public JWK (RFC 8037) of a key.
pub fn jwk(kid: &str, public: &VerifyingKey) -> Value {
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(public.as_bytes()),
        "kid": kid,
        "use": "sig",
        "alg": ALGORITHM,
    })
}

/// Signs `claims` as a compact JWS with the header `{alg: EdDSA, kid, typ: JWT}`.
pub fn sign(key: &SigningKey, kid: &str, claims: &Value) -> String {
    let header = json!({"alg": ALGORITHM, "kid": kid, "typ": "JWT"});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )
}

/// Why a JWS is not a valid certificate of ours, in technical terms only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    UnsupportedAlgorithm,
    UnknownKey,
    BadSignature,
    OtherIssuer,
    UnknownCertificate,
    /// Signed by the sandbox's key: made to build against, it clears no one.
    Sandbox,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::UnsupportedAlgorithm => "unsupported algorithm",
            Rejection::UnknownKey => "unknown key",
            Rejection::BadSignature => "bad signature",
            Rejection::OtherIssuer => "another issuer",
            Rejection::UnknownCertificate => "unknown certificate",
            Rejection::Sandbox => "sandbox",
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: String,
    #[serde(default)]
    typ: Option<String>,
}

/// A JWS split and decoded, its signature not yet checked.
pub struct Unverified<'a> {
    pub kid: String,
    signing_input: &'a str,
    signature: Signature,
    payload: Vec<u8>,
}

/// Splits and decodes a compact JWS; only `EdDSA` with a `kid` (and `typ` JWT, when given)
/// gets further.
pub fn parse(jws: &str) -> Result<Unverified<'_>, Rejection> {
    if jws.len() > MAX_JWS_LEN {
        return Err(Rejection::Malformed);
    }
    let mut parts = jws.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| Rejection::Malformed)
    };
    let header: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| Rejection::Malformed)?;
    if header.alg != ALGORITHM {
        return Err(Rejection::UnsupportedAlgorithm);
    }
    if header.typ.as_deref().is_some_and(|t| t != "JWT") {
        return Err(Rejection::Malformed);
    }
    let signature = Signature::from_slice(&decode(signature)?).map_err(|_| Rejection::Malformed)?;
    let signing_input = &jws[..jws.rfind('.').unwrap_or(0)];
    Ok(Unverified {
        kid: header.kid,
        signing_input,
        signature,
        payload: decode(payload)?,
    })
}

impl Unverified<'_> {
    /// The claims, once the signature checks out under `key` (strict: no malleable
    /// signatures, no weak keys).
    pub fn verify(self, key: &VerifyingKey) -> Result<Value, Rejection> {
        key.verify_strict(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| Rejection::BadSignature)?;
        let claims: Value =
            serde_json::from_slice(&self.payload).map_err(|_| Rejection::Malformed)?;
        if !claims.is_object() {
            return Err(Rejection::Malformed);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_jws_verifies_and_a_changed_one_does_not() {
        let key = generate();
        let kid = kid_of(&key.verifying_key());
        let jws = sign(&key, &kid, &json!({"jti": "x", "n": 1}));
        let claims = parse(&jws).unwrap().verify(&key.verifying_key()).unwrap();
        assert_eq!(claims["n"], 1);

        let (input, _) = jws.rsplit_once('.').unwrap();
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
        assert!(matches!(
            parse(&forged).unwrap().verify(&key.verifying_key()),
            Err(Rejection::BadSignature)
        ));
        let other = generate();
        assert!(matches!(
            parse(&jws).unwrap().verify(&other.verifying_key()),
            Err(Rejection::BadSignature)
        ));
    }

    #[test]
    fn garbage_is_malformed_and_alg_none_unsupported() {
        for garbage in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.??.**",
            &"a".repeat(MAX_JWS_LEN + 1),
        ] {
            assert!(
                matches!(parse(garbage), Err(Rejection::Malformed)),
                "{garbage}"
            );
        }
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert!(matches!(parse(&none), Err(Rejection::UnsupportedAlgorithm)));
    }

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        // RFC 8037, appendix A.3: the thumbprint of the example key.
        let public: [u8; 32] = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap()
            .try_into()
            .unwrap();
        let key = VerifyingKey::from_bytes(&public).unwrap();
        assert_eq!(kid_of(&key), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
