//! Small HTTP helpers shared by the API and the admin API: JSON answers and body reading.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

pub type Answer = Response<Full<Bytes>>;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

pub fn json(status: StatusCode, body: &Value) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(body.to_string())));
    *answer.status_mut() = status;
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    answer
}

pub fn empty(status: StatusCode) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::new()));
    *answer.status_mut() = status;
    answer
}

/// Auth0's error body: `{statusCode, error, message, errorCode?}`.
pub fn auth0_error(status: StatusCode, message: &str, error_code: Option<&str>) -> Answer {
    let mut body = json!({
        "statusCode": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "message": message,
    });
    if let Some(code) = error_code {
        body["errorCode"] = json!(code);
    }
    json(status, &body)
}

pub fn not_found_route() -> Answer {
    auth0_error(StatusCode::NOT_FOUND, "Not Found", None)
}

pub fn too_large(limit: usize) -> Answer {
    auth0_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("Payload content length greater than maximum allowed: {limit}"),
        None,
    )
}

/// Why a body could not be read.
pub enum BodyError {
    TooLarge,
    Broken,
}

/// Reads a body of at most `limit` bytes, refusing early on a larger `content-length`.
pub async fn read_body<B>(headers: &HeaderMap, body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

/// Splits a query string into pairs, decoding percent escapes.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}
