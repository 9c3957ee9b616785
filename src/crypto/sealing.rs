//! Personal data at rest: XChaCha20-Poly1305 under the data key, with the record's id as
//! associated data, so a sealed value cannot be moved to another record unnoticed.
use std::{fmt, sync::Arc};

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, Key, KeyInit, Payload},
};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

/// Format version of a sealed value: the first byte, so the scheme can change later.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct DataKey {
    cipher: Arc<XChaCha20Poly1305>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open with this key and record")]
    Forged,
    #[error("sealed value does not hold the expected data")]
    Content,
}

impl DataKey {
    pub fn new(key: [u8; 32]) -> Self {
        let key: Key<XChaCha20Poly1305> = key.into();
        DataKey {
            cipher: Arc::new(XChaCha20Poly1305::new(&key)),
        }
    }

    /// `version ‖ nonce ‖ ciphertext+tag`, with a fresh random 192-bit nonce.
    pub fn seal(&self, record_id: Uuid, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce: XNonce = nonce_bytes.into();
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: record_id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(&self, record_id: Uuid, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(SealError::Malformed);
        }
        let nonce_bytes: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN]
            .try_into()
            .map_err(|_| SealError::Malformed)?;
        let nonce: XNonce = nonce_bytes.into();
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: record_id.as_bytes(),
                },
            )
            .map_err(|_| SealError::Forged)
    }

    pub fn seal_json<T: Serialize>(&self, record_id: Uuid, value: &T) -> Vec<u8> {
        let json = serde_json::to_vec(value).expect("serialising to memory cannot fail");
        self.seal(record_id, &json)
    }

    pub fn open_json<T: DeserializeOwned>(
        &self,
        record_id: Uuid,
        sealed: &[u8],
    ) -> Result<T, SealError> {
        let plain = self.open(record_id, sealed)?;
        serde_json::from_slice(&plain).map_err(|_| SealError::Content)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_the_record() {
        let key = DataKey::new([7; 32]);
        let id = Uuid::now_v7();
        let sealed = key.seal(id, b"Jan Pieter de Vries");
        assert!(!sealed.windows(3).any(|w| w == b"Jan"));
        assert_eq!(key.open(id, &sealed).unwrap(), b"Jan Pieter de Vries");
        // Another record, another key, a flipped bit, a truncation: refused.
        assert_eq!(key.open(Uuid::now_v7(), &sealed), Err(SealError::Forged));
        assert_eq!(
            DataKey::new([8; 32]).open(id, &sealed),
            Err(SealError::Forged)
        );
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(key.open(id, &flipped), Err(SealError::Forged));
        assert_eq!(key.open(id, &sealed[..10]), Err(SealError::Malformed));
        // Fresh nonce each time.
        assert_ne!(key.seal(id, b"x"), key.seal(id, b"x"));
    }
}
