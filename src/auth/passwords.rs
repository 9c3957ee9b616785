//! Argon2id password hashing (OWASP parameters, PHC strings), run off the async runtime on a
//! small pool of dedicated threads, one per core: a burst of logins queues there instead of
//! starving request handling, and memory stays bounded (each hash needs 19 MiB; on tokio's
//! blocking pool every new thread would keep its own allocator arena of that size).
use std::sync::{Arc, Mutex, mpsc};

use argon2::{
    Argon2,
    password_hash::{PasswordHasher as _, PasswordVerifier as _, phc::PasswordHash},
};
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
fn argon2() -> Argon2<'static> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
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
        let matches = self
            .run(move || {
                PasswordHash::new(&phc)
                    .map(|parsed| {
                        argon2()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
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
    fn new_password_length() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"x".repeat(12)).is_ok());
        assert!(check_new_password(&"x".repeat(1025)).is_err());
    }
}
