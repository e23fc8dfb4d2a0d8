//! The one extractor every form handler takes its body through: a
//! urlencoded body read within its kind's size limit and the server's body
//! timeout (413 and 408 otherwise), its fields parsed once; and the
//! client's address, through trusted proxies.

use super::AppState;
use super::plumbing::form_fields;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Response;
use axum::http::request::Parts;
use bytes::Bytes;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::net::IpAddr;

/// What kind of form a body is: how large it may be, and what the answer
/// calls it when it is too large or too slow.
pub(super) trait FormKind {
    const MAX_BYTES: usize;
    const WHAT: &'static str;
}

/// A posted form of kind `K`: its fields (the first of each name) and the
/// raw body, for fields that repeat (`topic`).
pub(super) struct Form<K: FormKind> {
    pub raw: Bytes,
    pub fields: HashMap<String, String>,
    kind: PhantomData<K>,
}

impl<K: FormKind> Form<K> {
    /// Field `name`, or empty.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// Every value of field `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        form_urlencoded::parse(&self.raw)
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }
}

impl<K: FormKind, S: Send + Sync> FromRequest<S> for Form<K> {
    type Rejection = Response<Body>;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = super::server::read_form(request.into_body(), K::MAX_BYTES, K::WHAT).await?;
        let fields = form_fields(&raw);
        Ok(Form {
            raw,
            fields,
            kind: PhantomData,
        })
    }
}

/// The address of the client that sent the request (through trusted
/// proxies, the one they name).
pub(super) struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(state.client_addr(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Small;
    impl FormKind for Small {
        const MAX_BYTES: usize = 16;
        const WHAT: &'static str = "note";
    }

    #[tokio::test]
    async fn forms_are_read_within_their_limit_and_parsed_once() {
        let request = |body: &'static str| Request::builder().body(Body::from(body)).expect("request");
        let Ok(form) = Form::<Small>::from_request(request("a=1&t=x&t=y"), &()).await else {
            panic!("a small form is read");
        };
        assert_eq!(form.field("a"), "1");
        assert_eq!(form.field("t"), "x", "the first of a repeated field");
        assert_eq!(form.all("t"), ["x", "y"]);
        assert_eq!(form.field("missing"), "");
        let refused = Form::<Small>::from_request(request("a=12345678901234567890"), &())
            .await
            .err()
            .expect("too large");
        assert_eq!(refused.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
        let text = axum::body::to_bytes(refused.into_body(), 1024).await.expect("body");
        assert_eq!(&text[..], b"The note is too large to take.");
    }
}
