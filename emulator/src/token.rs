//! HS256 access tokens (JWT) and opaque pagination cursors, both signed with one HMAC key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::hmac;
use serde::{Deserialize, Serialize};

/// How long a pagination cursor stays valid.
pub const CURSOR_LIFETIME_SECS: u64 = 24 * 60 * 60;

/// The claims of an issued access token, shaped like Auth0's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    pub scope: String,
    pub gty: String,
    pub azp: String,
}

impl Claims {
    pub fn has_scope(&self, wanted: &str) -> bool {
        self.scope.split(' ').any(|scope| scope == wanted)
    }
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Invalid,
    Expired,
}

/// Signs and checks tokens and cursors; the key lives as long as the emulator's state.
#[derive(Clone)]
pub struct Signer {
    key: hmac::Key,
    secret: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(<secret>)")
    }
}

impl Signer {
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            secret,
        }
    }

    pub fn random() -> Self {
        Self::new(crate::random::bytes())
    }

    pub fn secret(&self) -> [u8; 32] {
        self.secret
    }

    pub fn issue(&self, claims: &Claims) -> String {
        let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        // Serialising plain strings and numbers cannot fail.
        let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let signature = B64.encode(hmac::sign(&self.key, signing_input.as_bytes()).as_ref());
        format!("{signing_input}.{signature}")
    }

    /// Checks signature, then expiry against `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Invalid)?;
        let signature = B64.decode(signature).map_err(|_| TokenError::Invalid)?;
        hmac::verify(&self.key, signing_input.as_bytes(), &signature).map_err(|_| TokenError::Invalid)?;
        let header: serde_json::Value = B64
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Invalid)?;
        if header.get("alg").and_then(|alg| alg.as_str()) != Some("HS256") {
            return Err(TokenError::Invalid);
        }
        let claims: Claims = B64
            .decode(payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenError::Invalid)?;
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    fn tag(&self, payload: &[u8]) -> String {
        // 128 bits of the HMAC are plenty to make forged cursors fail.
        B64.encode(&hmac::sign(&self.key, payload).as_ref()[..16])
    }

    /// An opaque cursor meaning "after `last_id`", bound to one tenant.
    pub fn cursor(&self, tenant: &str, last_id: &str, now: u64) -> String {
        let payload = format!("{now}\n{last_id}\n{tenant}");
        format!("{}.{}", B64.encode(&payload), self.tag(payload.as_bytes()))
    }

    /// The `last_id` a cursor stands for, if it is ours, for this tenant and not expired.
    pub fn open_cursor(&self, cursor: &str, tenant: &str, now: u64) -> Option<String> {
        let (payload, tag) = cursor.split_once('.')?;
        let payload = B64.decode(payload).ok()?;
        let tag = B64.decode(tag).ok()?;
        let expected = hmac::sign(&self.key, &payload);
        if tag.len() != 16 || !constant_time_eq(&expected.as_ref()[..16], &tag) {
            return None;
        }
        let payload = String::from_utf8(payload).ok()?;
        let mut parts = payload.splitn(3, '\n');
        let issued: u64 = parts.next()?.parse().ok()?;
        let last_id = parts.next()?;
        if parts.next()? != tenant || now.saturating_sub(issued) > CURSOR_LIFETIME_SECS {
            return None;
        }
        Some(last_id.to_string())
    }
}

/// Equality that takes as long whatever the first differing byte, so secrets and tags
/// cannot be guessed byte by byte from timings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            iss: "https://t/".into(),
            sub: "c@clients".into(),
            aud: "https://t/api/v2/".into(),
            iat: 100,
            exp,
            scope: "read:connection_profiles create:connection_profiles".into(),
            gty: "client-credentials".into(),
            azp: "c".into(),
        }
    }

    #[test]
    fn tokens_round_trip_and_expire() {
        let signer = Signer::random();
        let token = signer.issue(&claims(200));
        assert_eq!(token.split('.').count(), 3);
        let verified = signer.verify(&token, 199).expect("valid");
        assert!(verified.has_scope("create:connection_profiles"));
        assert!(!verified.has_scope("delete:connection_profiles"));
        assert_eq!(signer.verify(&token, 200), Err(TokenError::Expired));
    }

    #[test]
    fn foreign_or_tampered_tokens_are_invalid() {
        let signer = Signer::random();
        let token = signer.issue(&claims(200));
        assert_eq!(Signer::random().verify(&token, 1), Err(TokenError::Invalid));
        let mut tampered = token.clone();
        tampered.insert(token.find('.').map_or(0, |i| i + 3), 'x');
        assert_eq!(signer.verify(&tampered, 1), Err(TokenError::Invalid));
        assert_eq!(signer.verify("not-a-jwt", 1), Err(TokenError::Invalid));
    }

    #[test]
    fn cursors_are_tenant_bound_and_expire() {
        let signer = Signer::random();
        let cursor = signer.cursor("a.auth0.local", "cop_x", 1000);
        assert_eq!(
            signer.open_cursor(&cursor, "a.auth0.local", 1000).as_deref(),
            Some("cop_x")
        );
        assert_eq!(signer.open_cursor(&cursor, "b.auth0.local", 1000), None);
        assert_eq!(
            signer.open_cursor(&cursor, "a.auth0.local", 1000 + CURSOR_LIFETIME_SECS + 1),
            None
        );
        assert_eq!(Signer::random().open_cursor(&cursor, "a.auth0.local", 1000), None);
        assert_eq!(signer.open_cursor("garbage", "a.auth0.local", 1000), None);
    }
}
