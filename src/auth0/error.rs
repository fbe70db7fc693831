//! The one error of the Management API client: every non-2xx answer is mapped here, in one
//! place, and no variant ever carries a token, a client secret, or bytes of an answer that
//! is not Auth0's: only Auth0-shaped error bodies lend their `message`, cut to
//! [`MAX_MESSAGE_CHARS`]; any other answer is described by its status, content type and
//! size. Whatever a tenant's endpoint answers reaches status, Events and logs only through
//! these messages.

use std::time::Duration;

use serde::Deserialize;

/// The most characters of Auth0's own `message` (or OAuth `error_description`) kept.
pub const MAX_MESSAGE_CHARS: usize = 300;
/// The most characters of Auth0's `errorCode` kept.
const MAX_CODE_CHARS: usize = 64;

/// A failed call to Auth0.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Auth0Error {
    /// Auth0 answered with a non-2xx status.
    #[error("Auth0 answered {status}{}: {message}", error_code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Api {
        status: u16,
        error_code: Option<String>,
        message: String,
        /// The server's hint of when to try again (`Retry-After`, else `x-ratelimit-reset`).
        retry_after: Option<Duration>,
    },
    /// The request never got an answer: connection refused or reset, or a timeout.
    #[error("calling Auth0 failed: {message}")]
    Transport { message: String, timeout: bool },
    /// An answer that is not what the Management API promises.
    #[error("Auth0's answer could not be read at {path}: {message}")]
    Decode { path: String, message: String },
    /// The token endpoint refused the client credentials.
    #[error("Auth0 refused the client credentials: {message}")]
    Credentials { message: String },
    /// An id that is not one of the called kind's (`cop_`, `uap_`, `ssp_` and 22 base62
    /// characters), refused before any request: an id goes into the request's path, and
    /// `../` in one (from a hand-edited `profile-id` annotation) would reach another profile
    /// or another API.
    #[error("{id:?} is not an Auth0 {noun} id ({prefix} and 22 letters or digits); nothing was sent")]
    NotAnId {
        id: String,
        noun: &'static str,
        prefix: &'static str,
    },
}

/// How a failure is handled and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Worth retrying: 429, 5xx, 408, timeouts, resets.
    Transient,
    /// 401 or refused credentials.
    Unauthorized,
    /// 403: a missing scope or entitlement.
    Forbidden,
    /// 409: the name is taken.
    Conflict,
    /// 404.
    NotFound,
    /// 400 and other 4xx: Auth0 refused what we sent.
    Invalid,
}

impl Auth0Error {
    /// The classifier: whether (not when) a failure is worth retrying, and how to report it.
    pub fn category(&self) -> Category {
        match self {
            Auth0Error::Api { status, .. } => match status {
                408 | 429 | 500..=599 => Category::Transient,
                401 => Category::Unauthorized,
                403 => Category::Forbidden,
                404 => Category::NotFound,
                409 => Category::Conflict,
                _ => Category::Invalid,
            },
            Auth0Error::Transport { .. } | Auth0Error::Decode { .. } => Category::Transient,
            Auth0Error::Credentials { .. } => Category::Unauthorized,
            Auth0Error::NotAnId { .. } => Category::Invalid,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.category() == Category::Transient
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Auth0Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's hint of when to retry, if it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Auth0Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Auth0's error body (`{statusCode, error, message, errorCode?}`, as the Management API
/// answers every failure; see docs/emulator.md and Auth0's Management API reference).
#[derive(Deserialize)]
struct Auth0Body {
    #[serde(rename = "statusCode")]
    status_code: u16,
    #[allow(dead_code)] // required for the shape, never shown
    error: String,
    message: String,
    #[serde(rename = "errorCode", default)]
    error_code: Option<String>,
}

/// The OAuth 2.0 error body of Auth0's token endpoint (RFC 6749 §5.2:
/// `{error, error_description}`).
#[derive(Deserialize)]
struct OAuthBody {
    error: String,
    error_description: String,
}

/// Auth0's `message` from an error answer whose body is Auth0-shaped JSON with the same
/// `statusCode` as the answer, with its `errorCode` if it has one; `None` for anything else.
/// Pure.
pub fn auth0_message(status: u16, body: &[u8]) -> Option<(String, Option<String>)> {
    let parsed: Auth0Body = serde_json::from_slice(body).ok()?;
    if parsed.status_code != status {
        return None;
    }
    let code = parsed
        .error_code
        .filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || "_.-:".contains(ch)))
        .map(|c| bounded(&c, MAX_CODE_CHARS));
    Some((bounded(&parsed.message, MAX_MESSAGE_CHARS), code))
}

/// The token endpoint's `error_description` (OAuth-shaped body) or Auth0-shaped `message`;
/// `None` for anything else. Pure.
pub fn token_error_message(status: u16, body: &[u8]) -> Option<String> {
    if let Ok(parsed) = serde_json::from_slice::<OAuthBody>(body)
        && !parsed.error.is_empty()
    {
        return Some(bounded(&parsed.error_description, MAX_MESSAGE_CHARS));
    }
    auth0_message(status, body).map(|(message, _)| message)
}

/// What is said of an answer whose body is not shown: its kind, content type and size, e.g.
/// `an answer that is not an Auth0 error (text/html, 1532 bytes; not shown)`. Pure.
pub fn describe_answer(status: u16, content_type: Option<&str>, size: usize, truncated: bool) -> String {
    let what = if (300..400).contains(&status) {
        "a redirect, not followed"
    } else {
        "an answer that is not an Auth0 error"
    };
    let size = if truncated {
        format!("more than {size} bytes")
    } else {
        format!("{size} bytes")
    };
    format!("{what} ({}, {size}; not shown)", media_type(content_type))
}

/// A content type's media type only (`text/html` of `text/html; charset=...`), when it is a
/// plain `type/subtype` of at most 64 characters; else a placeholder. Pure.
pub fn media_type(content_type: Option<&str>) -> String {
    let Some(value) = content_type else {
        return "no content type".into();
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let token = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    match essence.split_once('/') {
        Some((kind, subtype)) if essence.len() <= 64 && token(kind) && token(subtype) => essence,
        _ => "an unrecognised content type".into(),
    }
}

/// `text` cut to `max` characters (on a character boundary), with `…` when cut; control
/// characters become spaces so that a message stays one line in logs.
fn bounded(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// A JSON decoding error described without the bytes it choked on (serde_json's own
/// message quotes them: `invalid type: string "…"`). Pure.
pub fn decode_problem(err: &serde_json::Error) -> String {
    use serde_json::error::Category as Json;
    let what = match err.classify() {
        Json::Io => "it could not be read",
        Json::Syntax => "it is not JSON",
        Json::Eof => "it ends too early",
        Json::Data => "its JSON has another shape",
    };
    if err.line() == 0 {
        what.to_string()
    } else {
        format!("{what} (line {}, column {})", err.line(), err.column())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_auth0_shaped_bodies_lend_their_message() {
        let auth0 = br#"{"statusCode":403,"error":"Forbidden","message":"Insufficient scope","errorCode":"insufficient_scope"}"#;
        assert_eq!(
            auth0_message(403, auth0),
            Some(("Insufficient scope".into(), Some("insufficient_scope".into())))
        );
        for other in [
            &br#"{"message":"internal service says hello","status":404}"#[..],
            br#"{"statusCode":404,"message":"no error field"}"#,
            br#"{"statusCode":500,"error":"x","message":"statusCode differs from the answer's"}"#,
            br#"{"statusCode":"404","error":"x","message":"a string statusCode"}"#,
            b"<html><title>admin console</title></html>",
            b"",
            b"[1,2,3]",
        ] {
            assert_eq!(auth0_message(404, other), None, "{}", String::from_utf8_lossy(other));
        }
        // Bounded, one line, and a code only when it looks like one.
        let long = format!(
            r#"{{"statusCode":400,"error":"Bad Request","message":"a\nb{}","errorCode":"not a code!"}}"#,
            "é".repeat(400)
        );
        let (message, code) = auth0_message(400, long.as_bytes()).expect("Auth0-shaped");
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.starts_with("a b") && message.ends_with('…'), "{message}");
        assert_eq!(code, None);
    }

    #[test]
    fn the_token_endpoint_speaks_oauth() {
        assert_eq!(
            token_error_message(401, br#"{"error":"access_denied","error_description":"Unauthorized"}"#),
            Some("Unauthorized".into())
        );
        assert_eq!(token_error_message(401, br#"{"message":"whatever"}"#), None);
        assert_eq!(token_error_message(401, b"<html>login</html>"), None);
    }

    #[test]
    fn other_answers_are_described_never_shown() {
        assert_eq!(
            describe_answer(404, Some("text/html; charset=utf-8"), 1532, false),
            "an answer that is not an Auth0 error (text/html, 1532 bytes; not shown)"
        );
        assert_eq!(
            describe_answer(302, None, 0, false),
            "a redirect, not followed (no content type, 0 bytes; not shown)"
        );
        assert_eq!(
            describe_answer(500, Some("application/json"), 4096, true),
            "an answer that is not an Auth0 error (application/json, more than 4096 bytes; not shown)"
        );
        assert_eq!(
            media_type(Some("text/password=hunter2 now")),
            "an unrecognised content type"
        );
        assert_eq!(
            media_type(Some(&format!("text/{}", "a".repeat(80)))),
            "an unrecognised content type"
        );
    }

    #[test]
    fn decode_problems_never_quote_the_answer() {
        let err = serde_json::from_str::<Vec<u8>>(r#""the-database-password""#).expect_err("not a list");
        let problem = decode_problem(&err);
        assert!(!problem.contains("password"), "{problem}");
        assert_eq!(problem, "its JSON has another shape (line 1, column 23)");
        let err = serde_json::from_str::<Vec<u8>>("<html>").expect_err("not JSON");
        assert_eq!(decode_problem(&err), "it is not JSON (line 1, column 1)");
    }

    fn api(status: u16) -> Auth0Error {
        Auth0Error::Api {
            status,
            error_code: None,
            message: "m".into(),
            retry_after: None,
        }
    }

    #[test]
    fn classifier() {
        for transient in [408, 429, 500, 502, 503, 504] {
            assert_eq!(api(transient).category(), Category::Transient, "{transient}");
        }
        assert_eq!(api(400).category(), Category::Invalid);
        assert_eq!(api(401).category(), Category::Unauthorized);
        assert_eq!(api(403).category(), Category::Forbidden);
        assert_eq!(api(404).category(), Category::NotFound);
        assert_eq!(api(409).category(), Category::Conflict);
        assert_eq!(api(422).category(), Category::Invalid);
        let reset = Auth0Error::Transport {
            message: "connection reset".into(),
            timeout: false,
        };
        assert!(reset.is_transient());
        assert_eq!(
            Auth0Error::Credentials {
                message: "Unauthorized".into()
            }
            .category(),
            Category::Unauthorized
        );
    }

    #[test]
    fn messages_name_the_status_and_code() {
        let err = Auth0Error::Api {
            status: 403,
            error_code: Some("insufficient_scope".into()),
            message: "Insufficient scope, expected any of: create:connection_profiles".into(),
            retry_after: None,
        };
        assert_eq!(
            err.to_string(),
            "Auth0 answered 403 (insufficient_scope): Insufficient scope, expected any of: create:connection_profiles"
        );
    }
}
