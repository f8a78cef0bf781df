//! The visitor behind a request: their session, found through the cookie,
//! or a new one. A missing, unknown, expired or tampered cookie never
//! fails a request: the visitor starts afresh, and is told why. A store
//! that does not answer (Redis away) does: the visitor gets the "service
//! indisponible" page, and their session is left as it is, never replaced
//! by a fresh one.

use super::clock::now;
use super::error::AppError;
use super::{AppState, Shared};
use crate::rehearsal::Rehearsal;
use crate::scenario::Scenario;
use crate::session::{Session, SessionId};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};
use std::sync::Arc;

pub(super) const COOKIE: &str = "miroir";

/// Why a visitor got a new session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fresh {
    /// First visit, or cookies cleared.
    New,
    /// The cookie named a session that expired (or a server restart).
    Expired,
    /// The cookie was not one of ours.
    Tampered,
}

pub(super) struct Visitor {
    pub(crate) id: SessionId,
    pub(crate) session: Held,
    /// Set when the session was made for this request.
    pub(crate) fresh: Option<Fresh>,
}

/// A visitor's session as the store shares it: read in place, and copied
/// only when a request changes it (the first `&mut` use), so that a page
/// that only reads it (a reload) copies none of its rehearsals.
#[derive(Default)]
pub(super) struct Held(Arc<Session>);

impl std::ops::Deref for Held {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

impl std::ops::DerefMut for Held {
    fn deref_mut(&mut self) -> &mut Session {
        Arc::make_mut(&mut self.0)
    }
}

impl Visitor {
    /// The visitor of a request, with a new session if need be; the 503
    /// page when their session cannot be read now.
    pub(super) async fn of(state: &AppState, headers: &HeaderMap) -> Result<Visitor, AppError> {
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
                Ok(Some(session)) => return Ok(Visitor { id, session: Held(session), fresh: None }),
                Ok(None) => Fresh::Expired,
                Err(e) => {
                    tracing::warn!(error = %e, "session store unavailable");
                    return Err(AppError::Unavailable);
                }
            },
        };
        // Never reuse an id the browser chose: a new one, always.
        Ok(Visitor { id: uuid::Uuid::new_v4(), session: Held::default(), fresh: Some(fresh) })
    }

    /// Whether the visitor had a session that is gone.
    pub(super) fn lost_a_session(&self) -> bool {
        matches!(self.fresh, Some(Fresh::Expired | Fresh::Tampered))
    }

    /// Keeps the session; the cookie is (re)sent when it is new. When the
    /// store does not answer, the 503 page to give instead: the change is
    /// not kept, and the visitor must not be told it was.
    pub(super) async fn save(&self, state: &AppState) -> Result<(), AppError> {
        state.store.save(self.id, self.session.0.clone()).await.map_err(|e| {
            tracing::warn!(error = %e, "session not saved");
            AppError::Unavailable
        })
    }

    /// The `Set-Cookie` header for a new session.
    pub(super) fn set_cookie(&self, state: &AppState, request: &HeaderMap) -> Option<HeaderValue> {
        self.fresh?;
        let https = state.config.secure_cookies || request.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
        // Inside another site's frame, a Lax cookie is never sent: allowed
        // framing needs a partitioned cross-site cookie, over https.
        let framed = !state.config.frame_ancestors.is_empty();
        let cookie = Cookie::build((COOKIE, self.id.to_string()))
            .http_only(true)
            .same_site(if framed { SameSite::None } else { SameSite::Lax })
            .partitioned(framed)
            .path(state.url(super::routes::HOME))
            .secure(https || framed)
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }
}

impl Visitor {
    /// The notice to show once, forgotten as it is shown.
    pub(super) async fn take_notice(&mut self, state: &AppState) -> Result<Option<String>, AppError> {
        // Read first: taking through `&mut` copies a shared session.
        if self.session.notice.is_none() {
            return Ok(None);
        }
        let notice = self.session.notice.take();
        self.save(state).await?;
        Ok(notice)
    }

    /// Tells the visitor's workshop, if any, where they are now.
    pub(super) fn report(&self, state: &AppState, s: &Scenario, r: &Rehearsal, refused: bool) {
        let Some(seat) = &self.session.workshop else { return };
        let Some(room) = state.workshops.by_code(&seat.code) else { return };
        if room.read(|w| w.scenarios.contains(&s.id)) {
            room.report(seat.learner, crate::workshop::progress(s, r, now()), refused);
        }
    }
}

/// The visitor of a request; the 503 page when their session cannot be
/// read now.
impl FromRequestParts<Shared> for Visitor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Visitor, AppError> {
        Visitor::of(state, &parts.headers).await
    }
}
