//! What the API is specified with: its routes, the messages tests compare
//! against, the shape of its keys, and values no test run produces twice.

use std::sync::atomic::{AtomicU64, Ordering};

pub const SHARE: &str = "/api/v1/share";
/// The alias of [`SHARE`].
pub const CREATE: &str = "/api/v1/create";
pub const GENERATE: &str = "/api/v1/generate";
pub const STATUS: &str = "/api/v1/status";
pub const AUTHCHECK: &str = "/api/v1/authcheck";
/// An account's receipts, under both of its names.
pub const RECENT: [&str; 2] = ["/api/v1/private/recent", "/api/v1/metadata/recent"];

/// otsd's own API for requesting a secret (not part of v1).
pub const REQUESTS: &str = "/api/requests";
pub const UNKNOWN_SECRET: &str = "Unknown secret";
pub const UNKNOWN_REQUEST: &str = "Unknown request";
pub const NOT_AUTHORIZED: &str = "Not authorized";
pub const RATE_LIMITED: &str = "Rate limit exceeded. Please try again later.";
pub const NOTHING_TO_SHARE: &str = "You did not provide anything to share";
pub const PASSPHRASE_TOO_LONG: &str = "Passphrase must be no more than 128 characters long";
pub const ACCOUNT_REQUIRED_FOR_EMAIL: &str = "An account is required to send emails.";

/// A rate-limit window no test run can straddle (windows are aligned to the
/// clock; this one is about 35,000 years long).
pub const WINDOW: u64 = 1 << 40;

/// Every key otsd issues is this long (docs/api-notes.md: one fixed length, at most
/// 62 characters, as the spec allows).
pub const KEY_CHARS: usize = 52;

/// The characters of every key otsd issues (docs/api-notes.md, Keys): the digits
/// and the letters without `i l o u`.
pub const KEY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A string no other test (or run) produces: `prefix` plus time and a counter.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{nanos:x}x{n}p{}", std::process::id())
}

/// A well-formed key ([`KEY_CHARS`] characters of [`KEY_ALPHABET`], like every
/// issued key) that no server issued, so it takes the unknown-key path and not
/// the malformed-key one.
pub fn unissued_key() -> String {
    let mut seed = unique("").bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (0..KEY_CHARS)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            KEY_ALPHABET[(seed % 32) as usize] as char
        })
        .collect()
}

/// `path` with `params` as its query string, each name and value
/// percent-encoded (everything but RFC 3986's unreserved characters, so a space
/// is `%20`).
pub fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    fn encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    let query: Vec<String> = params
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    format!("{path}?{}", query.join("&"))
}
