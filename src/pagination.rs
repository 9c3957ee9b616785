//! Keyset pagination shared by every list endpoint: `?limit=` (1–100, default 25) and an opaque
//! `?cursor=`; answers `{data, next_cursor}`.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{AppError, FieldError};

pub const DEFAULT_LIMIT: u64 = 25;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(schema_with = cursor_schema)]
    pub cursor: Option<String>,
}

/// A validated page request: items strictly after `after`, at most `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Uuid>,
}

impl PageParams {
    pub fn validate(&self) -> Result<PageRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new("limit", "must be between 1 and 100"));
        }
        let after = match &self.cursor {
            None => None,
            Some(cursor) => match decode_cursor(cursor) {
                Some(id) => Some(id),
                None => {
                    errors.push(FieldError::new(
                        "cursor",
                        "is not a cursor this service issued",
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(PageRequest { limit, after })
        } else {
            Err(errors)
        }
    }

    pub fn page_request(&self) -> Result<PageRequest, AppError> {
        self.validate().map_err(AppError::Validation)
    }

    /// The page, or `None` with its errors recorded beside a list's other filters.
    pub fn check(&self, fields: &mut crate::validation::Fields) -> Option<PageRequest> {
        match self.validate() {
            Ok(page) => Some(page),
            Err(errors) => {
                fields.extend(errors);
                None
            }
        }
    }
}

/// What [`encode_cursor`] writes: 16 bytes in unpadded base64url, whose last character carries
/// two bits of the last byte and four zero bits (the base64 crate refuses anything else).
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]{21}[AQgw]$";

/// The schema of a `cursor` parameter: what [`decode_cursor`] takes.
pub fn cursor_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(CURSOR_PATTERN))
        .description(Some("The `next_cursor` of the previous page."))
        .build()
}

pub fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in key order: the extra row only says
    /// that there is a next page.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        request: PageRequest,
        key: impl Fn(&R) -> Uuid,
        map: impl FnMut(R) -> T,
    ) -> Self {
        let more = rows.len() as u64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(key(r)))
        } else {
            None
        };
        Page {
            data: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// The documented pattern `^[A-Za-z0-9_-]{21}[AQgw]$` is exactly what we issue and accept.
    #[test]
    fn the_documented_cursor_pattern_matches_issued_cursors_and_only_accepted_ones() {
        for _ in 0..200 {
            let cursor = encode_cursor(Uuid::new_v4());
            assert_eq!(cursor.len(), 22);
            assert!(cursor.bytes().all(|b| ALPHABET.contains(&b)));
            assert!(b"AQgw".contains(&cursor.as_bytes()[21]), "{cursor}");
        }
        for n in 0..200usize {
            let mut cursor: String = (0..21)
                .map(|i| ALPHABET[(n * 7 + i * 13) % ALPHABET.len()] as char)
                .collect();
            cursor.push(['A', 'Q', 'g', 'w'][n % 4]);
            assert!(decode_cursor(&cursor).is_some(), "{cursor}");
        }
        assert!(decode_cursor("AAAAAAAAAAAAAAAAAAAAAB").is_none());
    }
}
