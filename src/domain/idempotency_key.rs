//! The `Idempotency-Key` header: the one rule, checked here and written into the OpenAPI
//! document as [`PATTERN`].

/// 1 to 255 visible ASCII characters.
pub const PATTERN: &str = "^[!-~]{1,255}$";

pub fn parse(text: &str) -> Result<&str, String> {
    if (1..=255).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(text)
    } else {
        Err("must be 1 to 255 visible ASCII characters".to_owned())
    }
}
