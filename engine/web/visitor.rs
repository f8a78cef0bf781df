//! The visitor behind a request: their session, found through the cookie,
//! or a new one. A missing, unknown, expired or tampered cookie never
//! fails a request: the visitor starts afresh, and is told why. A store
//! that does not answer (Redis away) does: the visitor gets the "service
//! indisponible" page, and their session is left as it is, never replaced
//! by a fresh one.

use super::AppState;
use crate::session::{Session, SessionId};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use cookie::{Cookie, SameSite};

pub const COOKIE: &str = "miroir";

/// The visitor of a request, or returns the 503 page from the handler.
macro_rules! visitor_or_return {
    ($state:expr, $headers:expr) => {
        match $crate::web::visitor::Visitor::of($state, $headers).await {
            Ok(visitor) => visitor,
            Err(response) => return response,
        }
    };
}
pub(crate) use visitor_or_return;

/// Saves the visitor's session, or returns the 503 page from the handler.
macro_rules! saved_or_return {
    ($state:expr, $visitor:expr) => {
        if let Err(response) = $visitor.save($state).await {
            return response;
        }
    };
}
pub(crate) use saved_or_return;

/// Why a visitor got a new session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fresh {
    /// First visit, or cookies cleared.
    New,
    /// The cookie named a session that expired (or a server restart).
    Expired,
    /// The cookie was not one of ours.
    Tampered,
}

pub struct Visitor {
    pub id: SessionId,
    pub session: Session,
    /// Set when the session was made for this request.
    pub fresh: Option<Fresh>,
}

impl Visitor {
    /// The visitor of a request, with a new session if need be; the 503
    /// page when their session cannot be read now.
    pub async fn of(state: &AppState, headers: &HeaderMap) -> Result<Visitor, Response> {
        let raw = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == COOKIE)
            .map(|c| c.value().to_owned());
        let fresh = match raw.as_deref().map(uuid::Uuid::parse_str) {
            None => Fresh::New,
            Some(Err(_)) => Fresh::Tampered,
            Some(Ok(id)) if id.get_version_num() != 4 => Fresh::Tampered,
            Some(Ok(id)) => match state.store.load(id).await {
                Ok(Some(session)) => return Ok(Visitor { id, session, fresh: None }),
                Ok(None) => Fresh::Expired,
                Err(e) => {
                    tracing::warn!(error = %e, "session store unavailable");
                    return Err(super::pages::unavailable(state));
                }
            },
        };
        // Never reuse an id the browser chose: a new one, always.
        Ok(Visitor { id: uuid::Uuid::new_v4(), session: Session::default(), fresh: Some(fresh) })
    }

    /// Whether the visitor had a session that is gone.
    pub fn lost_a_session(&self) -> bool {
        matches!(self.fresh, Some(Fresh::Expired | Fresh::Tampered))
    }

    /// Keeps the session; the cookie is (re)sent when it is new. When the
    /// store does not answer, the 503 page to give instead: the change is
    /// not kept, and the visitor must not be told it was.
    pub async fn save(&self, state: &AppState) -> Result<(), Response> {
        state.store.save(self.id, self.session.clone()).await.map_err(|e| {
            tracing::warn!(error = %e, "session not saved");
            super::pages::unavailable(state)
        })
    }

    /// The `Set-Cookie` header for a new session.
    pub fn set_cookie(&self, state: &AppState, request: &HeaderMap) -> Option<HeaderValue> {
        self.fresh?;
        let https = state.config.secure_cookies || request.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
        // Inside another site's frame, a Lax cookie is never sent: allowed
        // framing needs a partitioned cross-site cookie, over https.
        let framed = !state.config.frame_ancestors.is_empty();
        let cookie = Cookie::build((COOKIE, self.id.to_string()))
            .http_only(true)
            .same_site(if framed { SameSite::None } else { SameSite::Lax })
            .partitioned(framed)
            .path(if state.config.base_path.is_empty() { "/".to_owned() } else { state.config.base_path.clone() })
            .secure(https || framed)
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }
}
