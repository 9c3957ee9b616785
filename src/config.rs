//! Configuration from `SAFESCREEN_*` environment variables, with defaults that let
//! `cargo run --release` serve on SQLite with no configuration at all.
use std::{collections::HashMap, fmt, net::SocketAddr, path::PathBuf};

use base64::{Engine, engine::general_purpose::STANDARD as B64};

/// Where the service listens, and so its public URL, when nothing is configured.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// So many requests per window: `600/min`, `10/s`, `5000/h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window_secs: u32,
}

impl RateLimit {
    pub const DEFAULT: RateLimit = RateLimit {
        requests: 600,
        window_secs: 60,
    };

    pub fn parse(text: &str) -> Option<RateLimit> {
        let (requests, window) = text.trim().split_once('/')?;
        let requests: u32 = requests.trim().parse().ok().filter(|n| *n > 0)?;
        let window_secs = match window.trim() {
            "s" | "sec" | "second" => 1,
            "min" | "minute" => 60,
            "h" | "hour" => 3600,
            _ => return None,
        };
        Some(RateLimit {
            requests,
            window_secs,
        })
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub database_max_connections: u32,
    pub listen: SocketAddr,
    pub public_url: String,
    /// The key for personal data and signing keys at rest; see [`Config::data_key_source`].
    pub data_key: Option<[u8; 32]>,
    /// The master key before a change: the data keys wrapped under it are re-wrapped at start.
    pub data_key_previous: Option<[u8; 32]>,
    /// An Ed25519 seed to import as the signing key.
    pub signing_key: Option<[u8; 32]>,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    /// The sender of e-mails to subjects.
    pub mail_from: String,
    /// Who runs the service: the controller named in the subject's privacy notice.
    pub operator_name: String,
    /// How to reach the controller (an address or a URL); the mail sender's address by default.
    pub operator_contact: String,
    /// E-mail reminders to a subject who has not answered, this long before the request
    /// lapses, longest first.
    pub consent_reminders: Vec<crate::domain::IsoDuration>,
    pub webhook_allow_private: bool,
    /// Waits between webhook attempts; after the last one a delivery is given up.
    pub webhook_retry_schedule: Vec<std::time::Duration>,
    pub retention_days: u32,
    pub worker_interval_ms: u64,
    pub session_hours: u32,
    /// A session (cookie or API session token) ends after this long unused.
    pub session_idle_minutes: u32,
    /// Who must sign in with a second factor.
    pub mfa: MfaPolicy,
    /// Unknown invitation tokens one client may try before its lookups are slowed down (429).
    pub invitation_lookup_limit: u32,
    /// Requests each API key or session may make (`SAFESCREEN_RATE_LIMIT`).
    pub rate_limit: RateLimit,
    pub log: String,
    pub log_format: LogFormat,
    /// Where signed audit checkpoints are appended (`audit-checkpoints.log`).
    pub audit_checkpoint_dir: PathBuf,
    pub audit_checkpoint_interval: std::time::Duration,
}

/// `SAFESCREEN_MFA`: who must have a second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MfaPolicy {
    /// Admins and checkers (supervisors are checkers): staff who read criminal-record data.
    Staff,
    /// Everyone with an account, organisation users too.
    All,
    /// Offered to everyone, required of no one.
    Optional,
}

impl MfaPolicy {
    /// Whether a user of this role must have a second factor.
    pub fn requires(self, role: crate::domain::Role) -> bool {
        use crate::domain::Role;
        match self {
            MfaPolicy::Staff => matches!(role, Role::Admin | Role::Checker),
            MfaPolicy::All => true,
            MfaPolicy::Optional => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

/// `SAFESCREEN_CONSENT_REMINDERS`: ISO 8601 durations before the lapse (`P7D,P2D`), each
/// sent once; none when set to `none`.
fn parse_reminders(text: Option<&str>) -> Result<Vec<crate::domain::IsoDuration>, ConfigError> {
    const VARIABLE: &str = "SAFESCREEN_CONSENT_REMINDERS";
    let text = text.unwrap_or("P7D,P2D").trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut reminders = text
        .split(',')
        .map(|part| crate::domain::IsoDuration::parse(part.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(VARIABLE, format!("{e}; e.g. P7D,P2D (or none)")))?;
    reminders.sort_by_key(|d| std::cmp::Reverse(d.as_time()));
    reminders.dedup_by_key(|d| d.as_time());
    Ok(reminders)
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Reads the given variables (tests pass their own instead of touching the environment).
    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).filter(|v| !v.is_empty()).cloned();
        let parse_num = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| invalid(name, format!("expected a whole number, got {v:?}"))),
            }
        };

        let database_url = get("SAFESCREEN_DATABASE_URL")
            .unwrap_or_else(|| "sqlite://safescreen.db?mode=rwc".to_owned());
        let listen_text = get("SAFESCREEN_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            invalid(
                "SAFESCREEN_LISTEN",
                format!("expected host:port, got {listen_text:?}"),
            )
        })?;
        let public_url = get("SAFESCREEN_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let data_key = match get("SAFESCREEN_DATA_KEY") {
            None => None,
            Some(text) => Some(decode_key(&text).ok_or_else(|| {
                invalid("SAFESCREEN_DATA_KEY", "expected 32 bytes, base64-encoded")
            })?),
        };
        let data_key_previous = match get("SAFESCREEN_DATA_KEY_PREVIOUS") {
            None => None,
            Some(text) => Some(decode_key(&text).ok_or_else(|| {
                invalid(
                    "SAFESCREEN_DATA_KEY_PREVIOUS",
                    "expected 32 bytes, base64-encoded",
                )
            })?),
        };
        let audit_checkpoint_interval = match get("SAFESCREEN_AUDIT_CHECKPOINT_INTERVAL") {
            None => std::time::Duration::from_secs(300),
            Some(text) => crate::domain::IsoDuration::parse(text.trim())
                .ok()
                .map(|d| d.as_time().whole_milliseconds())
                .filter(|ms| *ms >= 100)
                .map(|ms| std::time::Duration::from_millis(ms as u64))
                .ok_or_else(|| {
                    invalid(
                        "SAFESCREEN_AUDIT_CHECKPOINT_INTERVAL",
                        format!("expected a duration of at least 0.1 s such as PT5M, got {text:?}"),
                    )
                })?,
        };
        let audit_checkpoint_dir = get("SAFESCREEN_AUDIT_CHECKPOINT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir(&database_url));
        let signing_key = match get("SAFESCREEN_SIGNING_KEY") {
            None => None,
            Some(text) => Some(decode_key(&text).ok_or_else(|| {
                invalid(
                    "SAFESCREEN_SIGNING_KEY",
                    "expected an Ed25519 seed: 32 bytes, base64-encoded",
                )
            })?),
        };
        let mail_dir = get("SAFESCREEN_MAIL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir(&database_url).join("mail"));
        let webhook_allow_private = match get("SAFESCREEN_WEBHOOK_ALLOW_PRIVATE").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(invalid(
                    "SAFESCREEN_WEBHOOK_ALLOW_PRIVATE",
                    format!("expected true or false, got {other:?}"),
                ));
            }
        };
        let mfa = match get("SAFESCREEN_MFA").as_deref() {
            None | Some("staff") => MfaPolicy::Staff,
            Some("all") => MfaPolicy::All,
            Some("optional") => MfaPolicy::Optional,
            Some(other) => {
                return Err(invalid(
                    "SAFESCREEN_MFA",
                    format!("expected staff, all or optional, got {other:?}"),
                ));
            }
        };
        let log_format = match get("SAFESCREEN_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "SAFESCREEN_LOG_FORMAT",
                    format!("expected text or json, got {other:?}"),
                ));
            }
        };
        let webhook_retry_schedule = match get("SAFESCREEN_WEBHOOK_RETRY_SCHEDULE") {
            None => DEFAULT_RETRY_SCHEDULE
                .iter()
                .map(|s| std::time::Duration::from_secs(*s))
                .collect(),
            Some(text) => text
                .split(',')
                .map(|part| {
                    crate::domain::IsoDuration::parse(part.trim()).map(|d| {
                        std::time::Duration::from_millis(d.as_time().whole_milliseconds() as u64)
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    invalid(
                        "SAFESCREEN_WEBHOOK_RETRY_SCHEDULE",
                        format!("{e}; e.g. PT5S,PT5M,PT30M"),
                    )
                })?,
        };
        let consent_reminders = parse_reminders(get("SAFESCREEN_CONSENT_REMINDERS").as_deref())?;
        let mail_from = get("SAFESCREEN_MAIL_FROM")
            .unwrap_or_else(|| "safescreen <no-reply@localhost>".to_owned());
        let operator_contact = get("SAFESCREEN_OPERATOR_CONTACT").unwrap_or_else(|| {
            // The address inside "Name <address>", or the whole value.
            mail_from
                .rsplit_once('<')
                .map_or(mail_from.as_str(), |(_, rest)| rest.trim_end_matches('>'))
                .to_owned()
        });
        let is_sqlite = database_url.starts_with("sqlite:");
        // PostgreSQL backends compete with the service for the same cores: more connections
        // than about four per core only add context switches (measured: 8 beat 16 on 2 cores).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
        let config = Config {
            database_max_connections: parse_num(
                "SAFESCREEN_DATABASE_MAX_CONNECTIONS",
                if is_sqlite { 8 } else { (4 * cores).max(4) },
            )? as u32,
            database_url,
            listen,
            public_url,
            data_key,
            data_key_previous,
            signing_key,
            admin_email: get("SAFESCREEN_ADMIN_EMAIL"),
            admin_password: get("SAFESCREEN_ADMIN_PASSWORD"),
            smtp_url: get("SAFESCREEN_SMTP_URL"),
            mail_dir,
            mail_from,
            operator_name: get("SAFESCREEN_OPERATOR_NAME").unwrap_or_else(|| "safescreen".into()),
            operator_contact,
            consent_reminders,
            webhook_allow_private,
            webhook_retry_schedule,
            retention_days: parse_num("SAFESCREEN_RETENTION_DAYS", 180)? as u32,
            worker_interval_ms: parse_num("SAFESCREEN_WORKER_INTERVAL_MS", 1000)?.max(10),
            session_hours: parse_num("SAFESCREEN_SESSION_HOURS", 12)?.clamp(1, 24 * 30) as u32,
            session_idle_minutes: parse_num("SAFESCREEN_SESSION_IDLE_MINUTES", 30)?
                .clamp(1, 24 * 60) as u32,
            mfa,
            invitation_lookup_limit: parse_num("SAFESCREEN_INVITATION_LOOKUP_LIMIT", 20)?
                .min(u64::from(i32::MAX as u32)) as u32,
            rate_limit: match get("SAFESCREEN_RATE_LIMIT") {
                None => RateLimit::DEFAULT,
                Some(text) => RateLimit::parse(&text).ok_or_else(|| {
                    invalid(
                        "SAFESCREEN_RATE_LIMIT",
                        format!("expected requests per second, minute or hour, like 600/min; got {text:?}"),
                    )
                })?,
            },
            log: get("SAFESCREEN_LOG").unwrap_or_else(|| "info".to_owned()),
            log_format,
            audit_checkpoint_dir,
            audit_checkpoint_interval,
        };
        if config.database_max_connections == 0 {
            return Err(invalid(
                "SAFESCREEN_DATABASE_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        Ok(config)
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Where the generated data key lives when `SAFESCREEN_DATA_KEY` is unset (SQLite only).
    pub fn data_key_file(&self) -> PathBuf {
        match sqlite_path(&self.database_url) {
            Some(db) => {
                let mut name = db.file_name().unwrap_or_default().to_os_string();
                name.push(".key");
                db.with_file_name(name)
            }
            None => PathBuf::from("safescreen.key"),
        }
    }
}

/// Standard Webhooks' schedule: 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h, about 3 days
/// in all.
const DEFAULT_RETRY_SCHEDULE: [u64; 11] = [
    5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000,
];

fn decode_key(text: &str) -> Option<[u8; 32]> {
    B64.decode(text.trim()).ok()?.try_into().ok()
}

/// The file behind a `sqlite://path?…` URL, if it is a file (not `:memory:`).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Beside an SQLite database, else the working directory.
fn data_dir(database_url: &str) -> PathBuf {
    sqlite_path(database_url)
        .and_then(|p| p.parent().map(PathBuf::from))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Reads the key file, or creates it (mode 0600) with a fresh random key.
pub fn load_or_create_key_file(path: &std::path::Path) -> std::io::Result<([u8; 32], bool)> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return decode_key(&text).map(|k| (k, false)).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the data key file does not hold 32 base64-encoded bytes",
            )
        });
    }
    let key: [u8; 32] = rand::random();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, B64.encode(key).as_bytes())?;
    Ok((key, true))
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |set: bool| if set { "<redacted>" } else { "<unset>" };
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_key", &redacted(self.data_key.is_some()))
            .field(
                "data_key_previous",
                &redacted(self.data_key_previous.is_some()),
            )
            .field("signing_key", &redacted(self.signing_key.is_some()))
            .field("admin_email", &redacted(self.admin_email.is_some()))
            .field("admin_password", &redacted(self.admin_password.is_some()))
            .field("smtp_url", &redacted(self.smtp_url.is_some()))
            .field("mail_dir", &self.mail_dir)
            .field("mail_from", &self.mail_from)
            .field("operator_name", &self.operator_name)
            .field("operator_contact", &self.operator_contact)
            .field("consent_reminders", &self.consent_reminders)
            .field("webhook_allow_private", &self.webhook_allow_private)
            .field("webhook_retry_schedule", &self.webhook_retry_schedule)
            .field("retention_days", &self.retention_days)
            .field("worker_interval_ms", &self.worker_interval_ms)
            .field("session_hours", &self.session_hours)
            .field("invitation_lookup_limit", &self.invitation_lookup_limit)
            .field("rate_limit", &self.rate_limit)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("mfa", &self.mfa)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("audit_checkpoint_dir", &self.audit_checkpoint_dir)
            .field("audit_checkpoint_interval", &self.audit_checkpoint_interval)
            .finish()
    }
}

/// Drops the password from a database URL.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!(
                "{}://{}:<redacted>@{}",
                &url[..scheme],
                user,
                &url[at + 1..]
            )
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = Config::from_vars(HashMap::new()).unwrap();
        assert_eq!(c.database_url, "sqlite://safescreen.db?mode=rwc");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.retention_days, 180);
        assert_eq!(c.worker_interval_ms, 1000);
        assert_eq!(c.mail_dir, PathBuf::from("./mail"));
        assert_eq!(c.data_key_file(), PathBuf::from("safescreen.db.key"));
        assert!(!c.webhook_allow_private);
        assert_eq!(c.rate_limit, RateLimit::DEFAULT);
    }

    #[test]
    fn rate_limits_read_per_second_minute_or_hour() {
        let limit = |text| RateLimit::parse(text);
        assert_eq!(limit("600/min"), Some(RateLimit::DEFAULT));
        assert_eq!(
            limit(" 10 / s "),
            Some(RateLimit {
                requests: 10,
                window_secs: 1
            })
        );
        assert_eq!(
            limit("5000/h"),
            Some(RateLimit {
                requests: 5000,
                window_secs: 3600
            })
        );
        for bad in [
            "",
            "600",
            "0/min",
            "-1/min",
            "600/day",
            "many/min",
            "600/min/s",
        ] {
            assert_eq!(limit(bad), None, "{bad:?}");
        }
        let e = Config::from_vars(vars(&[("SAFESCREEN_RATE_LIMIT", "lots")])).unwrap_err();
        assert_eq!(e.variable, "SAFESCREEN_RATE_LIMIT");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = Config::from_vars(vars(&[("SAFESCREEN_LISTEN", "nowhere")])).unwrap_err();
        assert_eq!(e.variable, "SAFESCREEN_LISTEN");
        let e = Config::from_vars(vars(&[("SAFESCREEN_DATA_KEY", "c2hvcnQ=")])).unwrap_err();
        assert_eq!(e.variable, "SAFESCREEN_DATA_KEY");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Config::from_vars(vars(&[
            (
                "SAFESCREEN_DATABASE_URL",
                "postgres://app:hunter2@db/safescreen",
            ),
            ("SAFESCREEN_ADMIN_PASSWORD", "correct horse battery"),
            ("SAFESCREEN_DATA_KEY", &B64.encode([7u8; 32])),
        ]))
        .unwrap();
        let text = format!("{c:?}");
        assert!(!text.contains("hunter2"));
        assert!(!text.contains("correct horse"));
        assert!(!text.contains(&B64.encode([7u8; 32])));
    }
}
