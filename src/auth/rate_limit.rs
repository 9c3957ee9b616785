//! Each API key's and browser or API session's request rate (`SAFESCREEN_RATE_LIMIT`), by
//! `governor`'s GCRA in this process: across processes a caller gets at most the limit times
//! the number of processes. Answers carry the IETF `RateLimit-Policy` and `RateLimit` headers
//! (draft-ietf-httpapi-ratelimit-headers); past the limit, 429 with `Retry-After`.
use std::{
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, header},
    response::Response,
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use uuid::Uuid;

use crate::{config::RateLimit, error::AppError};

pub const POLICY_HEADER: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const STATE_HEADER: HeaderName = HeaderName::from_static("ratelimit");

/// How often the limiter forgets callers whose quota is whole again.
const FORGET_EVERY: u64 = 4096;

type Limiter =
    RateLimiter<Uuid, DefaultKeyedStateStore<Uuid>, DefaultClock, StateInformationMiddleware>;

pub struct RateLimits {
    limiter: Limiter,
    limit: RateLimit,
    /// Seconds one request's share of the quota takes to come back.
    per_request: Duration,
    policy: HeaderValue,
    checks: AtomicU64,
}

/// A request let through, or not: what its answer's headers say.
pub enum Verdict {
    Allowed { remaining: u32, reset_secs: u64 },
    Limited { retry_after_secs: u64 },
}

impl RateLimits {
    pub fn new(limit: RateLimit) -> Self {
        let requests = NonZeroU32::new(limit.requests).unwrap_or(NonZeroU32::MIN);
        let window = Duration::from_secs(u64::from(limit.window_secs.max(1)));
        let per_request = window / requests.get();
        // A whole window's requests at once, then one per `per_request`.
        let quota = Quota::with_period(per_request.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(requests))
            .allow_burst(requests);
        let policy = format!("\"default\";q={};w={}", limit.requests, limit.window_secs);
        RateLimits {
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            limit,
            per_request,
            policy: HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("")),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one request of `caller` (an API key's or a session's id).
    pub fn check(&self, caller: Uuid) -> Verdict {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(&caller) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let used = self.limit.requests.saturating_sub(remaining);
                let reset = self.per_request * used;
                Verdict::Allowed {
                    remaining,
                    reset_secs: ceil_secs(reset),
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Verdict::Limited {
                    retry_after_secs: ceil_secs(wait).max(1),
                }
            }
        }
    }

    /// `answer` if `caller` is within the limit, else `refuse` of a 429 (a problem, or a page);
    /// either way with the limit's headers.
    pub async fn answer(
        &self,
        caller: Uuid,
        answer: impl Future<Output = Response>,
        refuse: impl FnOnce(AppError) -> Response,
    ) -> Response {
        let verdict = self.check(caller);
        let mut response = match verdict {
            Verdict::Limited { retry_after_secs } => {
                let mut refused = refuse(AppError::RateLimited { retry_after_secs });
                refused
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                refused
            }
            Verdict::Allowed { .. } => answer.await,
        };
        self.write_headers(&verdict, response.headers_mut());
        response
    }

    /// The `RateLimit-Policy` and `RateLimit` headers of an answer.
    pub fn write_headers(&self, verdict: &Verdict, headers: &mut HeaderMap) {
        let (remaining, reset) = match *verdict {
            Verdict::Allowed {
                remaining,
                reset_secs,
            } => (remaining, reset_secs),
            Verdict::Limited { retry_after_secs } => (0, retry_after_secs),
        };
        headers.insert(POLICY_HEADER, self.policy.clone());
        if let Ok(value) = HeaderValue::from_str(&format!("\"default\";r={remaining};t={reset}")) {
            headers.insert(STATE_HEADER, value);
        }
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_the_limit_then_waits_and_others_are_not_counted() {
        let limits = RateLimits::new(RateLimit {
            requests: 3,
            window_secs: 60,
        });
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for left in [2, 1, 0] {
            assert!(
                matches!(limits.check(a), Verdict::Allowed { remaining, .. } if remaining == left)
            );
        }
        let Verdict::Limited { retry_after_secs } = limits.check(a) else {
            panic!("the fourth request passed");
        };
        assert!((1..=20).contains(&retry_after_secs), "{retry_after_secs}");
        assert!(matches!(
            limits.check(b),
            Verdict::Allowed { remaining: 2, .. }
        ));
        let mut headers = HeaderMap::new();
        limits.write_headers(&limits.check(b), &mut headers);
        assert_eq!(headers[POLICY_HEADER], "\"default\";q=3;w=60");
        assert_eq!(headers[STATE_HEADER], "\"default\";r=1;t=40");
    }
}
