//! The one error of the Management API client: every non-2xx answer is mapped here, in one
//! place, and no variant ever carries a token or a client secret.

use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

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
