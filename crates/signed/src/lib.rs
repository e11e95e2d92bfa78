//! Signed messages between Aduana and other systems (docs/payments.md, docs/single-window.md): an HMAC-SHA256 of
//! `<timestamp>.<body>` with a shared key, sent as the header value `t=<unix seconds>,v1=<hex>`. Banks sign their
//! payment confirmations to Aduana this way; Aduana signs the webhooks it posts to partner agencies the same way.
//!
//! **Architecture invariant**: pure; the time is passed in.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How old (or how far in the future) a signature may be, in seconds: an older message is a replay.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a signature is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The header does not read `t=…,v1=…`.
    Malformed,
    /// Its time is more than [`TOLERANCE_SECONDS`] from now.
    Stale,
    /// It does not match the body and the key.
    Mismatch,
}

fn mac(key: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header for `body` sent at `timestamp` (unix seconds).
pub fn sign(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(key, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a signature header against `body` at `now` (unix seconds), in constant time.
pub fn verify(key: &[u8], header: &str, body: &[u8], now: i64) -> Result<(), Refusal> {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signature = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(Refusal::Malformed);
    };
    if now.saturating_sub(timestamp).saturating_abs() > TOLERANCE_SECONDS {
        return Err(Refusal::Stale);
    }
    mac(key, timestamp, body)
        .verify_slice(&signature)
        .map_err(|_| Refusal::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_key_body_and_time() {
        let header = sign(b"key", 1_000, b"{}");
        assert_eq!(verify(b"key", &header, b"{}", 1_100), Ok(()));
        assert_eq!(
            verify(b"other", &header, b"{}", 1_100),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify(b"key", &header, b"{ }", 1_100),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify(b"key", &header, b"{}", 1_000 + TOLERANCE_SECONDS + 1),
            Err(Refusal::Stale)
        );
        assert_eq!(
            verify(b"key", "v1=00", b"{}", 1_000),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            verify(b"key", "t=x,v1=zz", b"{}", 1_000),
            Err(Refusal::Malformed)
        );
    }
}
