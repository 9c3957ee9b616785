//! Argon2id password hashing (OWASP parameters, PHC strings), run off the async runtime on a
//! small pool of dedicated threads, one per core: a burst of logins queues there instead of
//! starving request handling, and memory stays bounded (each hash needs 19 MiB; on tokio's
//! blocking pool every new thread would keep its own allocator arena of that size).
use std::sync::{Arc, Mutex, mpsc};

use std::cell::RefCell;

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Passwords {
    jobs: mpsc::Sender<Job>,
    /// Verified against when the e-mail is unknown, so that costs the same as a wrong password.
    dummy_hash: Arc<String>,
}

/// Argon2id, version 19, m = 19 MiB, t = 2, p = 1: the OWASP recommendation and the crate's
/// defaults, spelled out so a dependency update cannot weaken them silently.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters")
}

thread_local! {
    /// This thread's Argon2 working memory (19 MiB), reused by every hash it computes: a fresh
    /// 19 MiB per hash costs page faults and zeroing, and with glibc's large-block handling
    /// (see `main.rs`) would otherwise be mapped anew each time.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs Argon2 with this thread's working memory, sized for `params`.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() != params.block_count() {
            *blocks = vec![Block::new(); params.block_count()];
        }
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password,
            salt,
            out,
            blocks.as_mut_slice(),
        )
    })
}

/// A new PHC string: Argon2id (m = 19 MiB, t = 2, p = 1), a random 16-byte salt.
fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt: [u8; 16] = rand::random();
    let mut out = [0u8; 32];
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        params(),
        password.as_bytes(),
        &salt,
        &mut out,
    )
    .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params())
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string, with the algorithm, version and parameters
/// it names; the comparison takes constant time.
fn verify_blocking(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str());
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&parsed))
    else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2_into(
        algorithm,
        version,
        params,
        password.as_bytes(),
        salt,
        &mut out,
    )
    .is_ok()
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

impl Passwords {
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..cores {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            // Every sender is gone: the service is shutting down.
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Passwords {
            jobs,
            dummy_hash: Arc::new(hash_blocking("dummy password for unknown accounts")?),
        })
    }

    /// Runs `work` on the password pool and waits for its answer.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = reply.send(work());
            }))
            .map_err(|_| anyhow::anyhow!("the password pool has stopped"))?;
        Ok(answer.await?)
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// Checks a password against a stored PHC string; with `None` (unknown account) it does the
    /// same work against a dummy hash and answers false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> anyhow::Result<bool> {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let matches = self.run(move || verify_blocking(&password, &phc)).await?;
        Ok(known && matches)
    }
}

/// Length rule for new passwords, in characters.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_owasp_argon2id_and_verifies() {
        let passwords = Passwords::new().unwrap();
        let hash = passwords
            .hash("correct horse battery".into())
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("dummy password for unknown accounts".into(), None)
                .await
                .unwrap()
        );
    }

    #[test]
    fn hashes_interoperate_with_the_argon2_crates_own_api() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string();
        assert!(verify_blocking("correct horse battery", &theirs));
        assert!(!verify_blocking("correct horse batterz", &theirs));
        let ours = hash_blocking("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // Other parameters in a stored hash are honoured (and the memory resized for them).
        let lighter = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"older hash")
        .unwrap()
        .to_string();
        assert!(verify_blocking("older hash", &lighter));
        assert!(!verify_blocking("older hash", "not a phc string"));
    }

    #[test]
    fn new_password_length() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"x".repeat(12)).is_ok());
        assert!(check_new_password(&"x".repeat(1025)).is_err());
    }
}
