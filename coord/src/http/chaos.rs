//! `/chaos`, fault injection's admin route ([`coord::chaos`](crate::chaos)): served only when
//! the configuration has a chaos token ([`ServeConfig::chaos_token`](super::ServeConfig::chaos_token)),
//! and only to that token. `GET` lists the armed rules and the counts, `POST` arms the rules of
//! its JSON body (the `chaos:` section of `coord.yaml`), `DELETE` disarms every rule (or those
//! of one name: `DELETE /chaos?name=payments`).

use std::future::poll_fn;
use std::pin::pin;

use hyper::body::{Body as HttpBody, Bytes};
use hyper::header::CONTENT_LENGTH;
use hyper::{Method, StatusCode};

use super::csp;
use super::routes::{Refusal, Reply, Request, Routes, method_not_allowed, reply, text};
use crate::chaos::file::ChaosModel;

/// The route's path.
pub(crate) const PATH: &str = "/chaos";

/// The largest body `POST /chaos` reads (a thousand rules fit).
pub(crate) const MAX_BODY: usize = 64 * 1024;

impl Routes {
    /// Answers a request for `/chaos`, with the security headers: `421` for a host not
    /// allowed, `404` without a chaos token configured, `401` without that token, `405` for a
    /// method but `GET`, `POST` and `DELETE`; `POST`: `413` past [`MAX_BODY`], `400` for a body
    /// that is not the section's JSON, `422` for a rule refused (nothing is armed then).
    pub(crate) async fn chaos<B>(&self, request: &Request<'_>, body: B) -> Reply
    where
        B: HttpBody<Data = Bytes>,
    {
        let config = self.config();
        if !config.hosts.allows(request.authority()) {
            return Refusal::Host.answer();
        }
        let mut answer = match &config.chaos_token {
            None => text(StatusCode::NOT_FOUND, format!("no route {PATH}\n")),
            Some(token)
                if !request
                    .bearer()
                    .is_some_and(|offered| token.matches(offered)) =>
            {
                return Refusal::Token.answer();
            }
            Some(_) => match *request.method {
                Method::GET | Method::HEAD => listing(StatusCode::OK),
                Method::DELETE => disarm(request),
                Method::POST => arm(request, body).await,
                _ => method_not_allowed(
                    format!("{PATH} answers GET, POST and DELETE\n"),
                    "GET, HEAD, POST, DELETE",
                ),
            },
        };
        csp::secure(answer.headers_mut(), false);
        answer
    }
}

/// Disarms the rules of the name `?name=` gives (percent-encoded), or every rule without it.
fn disarm(request: &Request<'_>) -> Reply {
    let name = request
        .uri
        .query()
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("name="));
    let disarmed = match name.map(percent_decoded) {
        None => crate::chaos::disarm_all(),
        Some(Some(name)) => crate::chaos::disarm(&name),
        Some(None) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("{PATH}: `name` is not percent-encoded UTF-8\n"),
            );
        }
    };
    json(StatusCode::OK, &serde_json::json!({ "disarmed": disarmed }))
}

/// `text` with its `%XX` escapes decoded, if they are well formed and make UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// Arms the rules of the body, all or none.
async fn arm<B: HttpBody<Data = Bytes>>(request: &Request<'_>, body: B) -> Reply {
    let declared = request
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        return too_large();
    }
    let bytes = match read_bounded(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(Unread::TooLarge) => return too_large(),
        Err(Unread::Broken) => {
            return text(
                StatusCode::BAD_REQUEST,
                "the request's body could not be read\n".into(),
            );
        }
    };
    let model: ChaosModel = match serde_json::from_slice(&bytes) {
        Ok(model) => model,
        Err(error) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("{PATH}: the body is not the chaos section as JSON: {error}\n"),
            );
        }
    };
    match model.plan("chaos").and_then(|plan| plan.arm()) {
        Ok(_) => listing(StatusCode::OK),
        Err(refusal) => text(StatusCode::UNPROCESSABLE_ENTITY, format!("{refusal}\n")),
    }
}

fn too_large() -> Reply {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("{PATH} reads at most {MAX_BODY} bytes\n"),
    )
}

/// The rules armed and the counts, as JSON.
fn listing(status: StatusCode) -> Reply {
    json(
        status,
        &serde_json::json!({
            "armed": crate::chaos::rules(),
            "injected": crate::chaos::injected(),
        }),
    )
}

fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
    reply(status, "application/json", value.to_string().into())
}

/// Why a body was not read.
enum Unread {
    TooLarge,
    Broken,
}

/// The body, read until it ends or passes `limit` bytes (the server's request time-out bounds
/// a client that sends it slowly).
async fn read_bounded<B: HttpBody<Data = Bytes>>(body: B, limit: usize) -> Result<Vec<u8>, Unread> {
    let mut body = pin!(body);
    let mut bytes = Vec::new();
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|_| Unread::Broken)?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(Unread::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn names_are_percent_decoded() {
        assert_eq!(percent_decoded("payments").as_deref(), Some("payments"));
        assert_eq!(percent_decoded("a%2Fb%20c").as_deref(), Some("a/b c"));
        assert_eq!(percent_decoded("caf%C3%A9").as_deref(), Some("café"));
        for bad in ["%", "%4", "%zz", "%FF", "%C3"] {
            assert_eq!(percent_decoded(bad), None, "{bad}");
        }
    }
}
