//! Personal data at rest: XChaCha20-Poly1305 under a data key, with the record's id as
//! associated data, so a sealed value cannot be moved to another record unnoticed.
//!
//! A sealed value names the data key that sealed it: `2 ‖ key id (u32, big-endian) ‖ nonce ‖
//! ciphertext+tag`, the version and key id also in the associated data, so a header swapped
//! onto another value does not open. Values written before keys had ids (`1 ‖ nonce ‖ …`) were
//! sealed under what became data key 1 and still open. The data keys themselves live in the
//! database wrapped under the master key (see `crypto::data_keys`); this module only uses them.
use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU32, Ordering},
    },
};

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, Key, KeyInit, Payload},
};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

use super::data_keys::Store;

/// The format before data keys had ids: opened with data key 1.
const VERSION_UNNAMED: u8 = 1;
/// The format naming its data key.
const VERSION_NAMED: u8 = 2;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const NAMED_HEADER_LEN: usize = 1 + 4;

/// The id of the data key every value sealed before keys had ids was sealed under.
pub const FIRST_KEY: u32 = 1;

/// The header a value sealed under `key_id` starts with: what the database compares to count
/// and find the values of one key.
pub fn header_of(key_id: u32) -> [u8; NAMED_HEADER_LEN] {
    let id = key_id.to_be_bytes();
    [VERSION_NAMED, id[0], id[1], id[2], id[3]]
}

/// The data key that sealed a value, read from its header.
pub fn key_id_of(sealed: &[u8]) -> Option<u32> {
    match *sealed.first()? {
        VERSION_UNNAMED => Some(FIRST_KEY),
        VERSION_NAMED => Some(u32::from_be_bytes(sealed.get(1..5)?.try_into().ok()?)),
        _ => None,
    }
}

/// One AEAD key with its cipher ready.
pub(crate) fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    let key: Key<XChaCha20Poly1305> = (*key).into();
    XChaCha20Poly1305::new(&key)
}

/// The opened data keys of this process: which one seals, and every one it has needed to open.
#[derive(Clone)]
pub struct DataKey {
    inner: Arc<Inner>,
}

struct Inner {
    keys: RwLock<HashMap<u32, Arc<XChaCha20Poly1305>>>,
    current: AtomicU32,
    source: RwLock<Option<Arc<Store>>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value does not open with this key and record")]
    Forged,
    #[error("sealed value does not hold the expected data")]
    Content,
    #[error("sealed under data key {0}, which this service does not have (retired or unknown)")]
    UnknownKey(u32),
    #[error("the data key store is unreachable: {0}")]
    Store(String),
}

impl DataKey {
    /// A keyring holding one key as data key 1 (how every value was sealed before keys had
    /// ids); `serve` adds the database's keys with [`DataKey::insert`].
    pub fn new(key: [u8; 32]) -> Self {
        let ring = DataKey::empty();
        ring.insert(FIRST_KEY, &key);
        ring.set_current(FIRST_KEY);
        ring
    }

    pub(crate) fn empty() -> Self {
        DataKey {
            inner: Arc::new(Inner {
                keys: RwLock::new(HashMap::new()),
                current: AtomicU32::new(0),
                source: RwLock::new(None),
            }),
        }
    }

    /// Adds an opened data key.
    pub fn insert(&self, key_id: u32, key: &[u8; 32]) {
        let mut keys = self.inner.keys.write().unwrap_or_else(|p| p.into_inner());
        keys.insert(key_id, Arc::new(cipher(key)));
    }

    /// Forgets a retired key (never the one that seals: a newer one becomes current first).
    pub fn remove(&self, key_id: u32) {
        if key_id == self.current() {
            return;
        }
        let mut keys = self.inner.keys.write().unwrap_or_else(|p| p.into_inner());
        keys.remove(&key_id);
    }

    /// Makes `key_id` (already inserted) the key that seals from now on.
    pub fn set_current(&self, key_id: u32) {
        self.inner.current.store(key_id, Ordering::Release);
    }

    /// The key that seals.
    pub fn current(&self) -> u32 {
        self.inner.current.load(Ordering::Acquire)
    }

    /// Where keys this process has not opened are found.
    pub fn set_source(&self, source: Arc<Store>) {
        *self.inner.source.write().unwrap_or_else(|p| p.into_inner()) = Some(source);
    }

    /// A new data key wrapped under this process's master key (none without a store).
    pub fn wrap(&self, key_id: u32, key: &[u8; 32]) -> Option<Vec<u8>> {
        let source = self.inner.source.read().unwrap_or_else(|p| p.into_inner());
        source.as_ref().map(|store| store.wrap(key_id, key))
    }

    fn opened(&self, key_id: u32) -> Option<Arc<XChaCha20Poly1305>> {
        let keys = self.inner.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.get(&key_id).cloned()
    }

    /// The key, opened now from the source when this process has not needed it before: a
    /// value can name a key made by another process since this one last looked.
    async fn key(&self, key_id: u32) -> Result<Arc<XChaCha20Poly1305>, SealError> {
        if let Some(cipher) = self.opened(key_id) {
            return Ok(cipher);
        }
        let source = self
            .inner
            .source
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(source) = source else {
            return Err(SealError::UnknownKey(key_id));
        };
        let key = source
            .load(key_id)
            .await?
            .ok_or(SealError::UnknownKey(key_id))?;
        self.insert(key_id, &key);
        self.opened(key_id).ok_or(SealError::UnknownKey(key_id))
    }

    /// Opens `key_id` now if this process has not yet (so that it can become current).
    pub async fn load(&self, key_id: u32) -> Result<(), SealError> {
        self.key(key_id).await.map(|_| ())
    }

    /// Seals under the current key.
    pub fn seal(&self, record_id: Uuid, plaintext: &[u8]) -> Vec<u8> {
        // A key is opened before it becomes current and forgotten only once another is: should
        // the current key change between the two reads, the next read finds the new one.
        for _ in 0..1_000 {
            let key_id = self.current();
            if let Some(cipher) = self.opened(key_id) {
                return seal_with(&cipher, key_id, record_id, plaintext);
            }
            std::hint::spin_loop();
        }
        panic!("the current data key is not opened")
    }

    /// Seals under a given key (re-sealing, which must not depend on when this process learnt
    /// of the new key).
    pub async fn seal_under(
        &self,
        key_id: u32,
        record_id: Uuid,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let cipher = self.key(key_id).await?;
        Ok(seal_with(&cipher, key_id, record_id, plaintext))
    }

    pub async fn open(&self, record_id: Uuid, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let key_id = key_id_of(sealed).ok_or(SealError::Malformed)?;
        let (header_len, aad) = match sealed[0] {
            VERSION_UNNAMED => (1, record_id.as_bytes().to_vec()),
            _ => (NAMED_HEADER_LEN, named_aad(key_id, record_id)),
        };
        if sealed.len() < header_len + NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed);
        }
        let cipher = self.key(key_id).await?;
        let nonce_bytes: [u8; NONCE_LEN] = sealed[header_len..header_len + NONCE_LEN]
            .try_into()
            .map_err(|_| SealError::Malformed)?;
        let nonce: XNonce = nonce_bytes.into();
        cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed[header_len + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Forged)
    }

    /// The plaintext of a value that may be absent (erased) or not open: either way, none.
    pub async fn open_opt(&self, record_id: Uuid, sealed: Option<&[u8]>) -> Option<Vec<u8>> {
        self.open(record_id, sealed?).await.ok()
    }

    pub async fn open_json_opt<T: DeserializeOwned>(
        &self,
        record_id: Uuid,
        sealed: Option<&[u8]>,
    ) -> Option<T> {
        self.open_json(record_id, sealed?).await.ok()
    }

    pub fn seal_json<T: Serialize>(&self, record_id: Uuid, value: &T) -> Vec<u8> {
        let json = serde_json::to_vec(value).expect("serialising to memory cannot fail");
        self.seal(record_id, &json)
    }

    pub async fn open_json<T: DeserializeOwned>(
        &self,
        record_id: Uuid,
        sealed: &[u8],
    ) -> Result<T, SealError> {
        let plain = self.open(record_id, sealed).await?;
        serde_json::from_slice(&plain).map_err(|_| SealError::Content)
    }
}

fn named_aad(key_id: u32, record_id: Uuid) -> Vec<u8> {
    let mut aad = header_of(key_id).to_vec();
    aad.extend_from_slice(record_id.as_bytes());
    aad
}

/// `2 ‖ key id ‖ nonce ‖ ciphertext+tag`, with a fresh random 192-bit nonce.
fn seal_with(
    cipher: &XChaCha20Poly1305,
    key_id: u32,
    record_id: Uuid,
    plaintext: &[u8],
) -> Vec<u8> {
    let nonce_bytes: [u8; NONCE_LEN] = rand::random();
    let nonce: XNonce = nonce_bytes.into();
    let aad = named_aad(key_id, record_id);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(NAMED_HEADER_LEN + NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&header_of(key_id));
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&ciphertext);
    out
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey(current {}, <redacted>)", self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn seals_and_opens_bound_to_the_record_and_the_key() {
        let key = DataKey::new([7; 32]);
        let id = Uuid::now_v7();
        let sealed = key.seal(id, b"Jan Pieter de Vries");
        assert!(!sealed.windows(3).any(|w| w == b"Jan"));
        assert_eq!(key_id_of(&sealed), Some(FIRST_KEY));
        assert_eq!(key.open(id, &sealed).await.unwrap(), b"Jan Pieter de Vries");
        // Another record, another key, a flipped bit, a truncation: refused.
        assert_eq!(
            key.open(Uuid::now_v7(), &sealed).await,
            Err(SealError::Forged)
        );
        assert_eq!(
            DataKey::new([8; 32]).open(id, &sealed).await,
            Err(SealError::Forged)
        );
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(key.open(id, &flipped).await, Err(SealError::Forged));
        assert_eq!(key.open(id, &sealed[..10]).await, Err(SealError::Malformed));
        // Fresh nonce each time.
        assert_ne!(key.seal(id, b"x"), key.seal(id, b"x"));
    }

    #[tokio::test]
    async fn a_value_names_its_key_and_a_swapped_header_does_not_open() {
        let ring = DataKey::new([7; 32]);
        ring.insert(2, &[9; 32]);
        let id = Uuid::now_v7();
        let under_one = ring.seal(id, b"one");
        ring.set_current(2);
        let under_two = ring.seal(id, b"two");
        assert_eq!(key_id_of(&under_two), Some(2));
        assert_eq!(ring.open(id, &under_one).await.unwrap(), b"one");
        assert_eq!(ring.open(id, &under_two).await.unwrap(), b"two");
        // Key 2's ciphertext under key 1's header: the key id is in the associated data.
        let mut swapped = under_two.clone();
        swapped[1..5].copy_from_slice(&1u32.to_be_bytes());
        assert_eq!(ring.open(id, &swapped).await, Err(SealError::Forged));
        ring.remove(1);
        assert_eq!(
            ring.open(id, &under_one).await,
            Err(SealError::UnknownKey(1))
        );
    }

    #[tokio::test]
    async fn values_from_before_key_ids_open_as_key_one() {
        // The format of the release before: `1 ‖ nonce ‖ ciphertext`, the record id as AAD.
        let master = [5u8; 32];
        let id = Uuid::now_v7();
        let nonce: [u8; NONCE_LEN] = rand::random();
        let old = cipher(&master)
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: b"old value",
                    aad: id.as_bytes(),
                },
            )
            .unwrap();
        let sealed = [&[VERSION_UNNAMED][..], &nonce, &old].concat();
        assert_eq!(key_id_of(&sealed), Some(FIRST_KEY));
        let ring = DataKey::new(master);
        assert_eq!(ring.open(id, &sealed).await.unwrap(), b"old value");
    }
}
