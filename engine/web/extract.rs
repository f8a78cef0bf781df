//! What handlers take from a request before their own work: the scenario
//! of the address, the visitor's rehearsal of it, a trainer's room. Each
//! refuses the request the same way for every handler (404, the 503 page,
//! or a redirect to where the visitor stands).

use super::error::AppError;
use super::prepared::{scenario_value, urls};
use super::respond::{find, now, page, redirect, render, with_cookie};
use super::routes;
use super::visitor::Visitor;
use super::{Loaded, Shared};
use crate::rehearsal::Rehearsal;
use crate::scenario::Scenario;
use crate::workshop::Room;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
struct ScenarioAt {
    op: String,
    name: String,
}

#[derive(Deserialize)]
struct TrainerAt {
    token: String,
}

/// The scenario of `/scenarios/{op}/{name}` (404 when the library has none),
/// with the library it was found in.
pub(super) struct Scene {
    pub(crate) loaded: Arc<Loaded>,
    pub(crate) s: Arc<Scenario>,
}

impl FromRequestParts<Shared> for Scene {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Scene, AppError> {
        let Path(at) = Path::<ScenarioAt>::from_request_parts(parts, state).await.map_err(|e| AppError::answer(e.into_response()))?;
        let loaded = state.loaded();
        let s = find(&loaded, &at.op, &at.name).ok_or(AppError::NotFound)?;
        Ok(Scene { loaded, s })
    }
}

/// The visitor's rehearsal of the address's scenario, as it stands. None
/// yet, or one of an older version of the scenario, answers instead (see
/// [`rehearsal_of`]).
pub(super) struct Rehearsing {
    pub(crate) loaded: Arc<Loaded>,
    pub(crate) s: Arc<Scenario>,
    pub(crate) visitor: Visitor,
}

impl Rehearsing {
    /// The rehearsal, read where the session holds it (there is one: the
    /// extractor checked): a page that only reads it copies nothing.
    pub(super) fn r(&self) -> &Rehearsal {
        &self.visitor.session.rehearsals[&self.s.id]
    }

    /// The parts, with a copy of the rehearsal to change and put back.
    pub(super) fn owned(self) -> (Arc<Loaded>, Arc<Scenario>, Visitor, Rehearsal) {
        let r = self.r().clone();
        (self.loaded, self.s, self.visitor, r)
    }
}

impl FromRequestParts<Shared> for Rehearsing {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Rehearsing, AppError> {
        let Scene { loaded, s } = Scene::from_request_parts(parts, state).await?;
        let mut visitor = Visitor::of(state, &parts.headers).await?;
        rehearsal_of(state, &loaded, &s, &mut visitor, &parts.headers).await?;
        Ok(Rehearsing { loaded, s, visitor })
    }
}

/// Checks that the visitor has a rehearsal of `s`; or, when the scenario
/// changed since, starts a fresh one and answers a redirect to it; or when
/// their session expired, the page that says so; or with none, a redirect
/// to the scenario's page.
async fn rehearsal_of(
    state: &Shared,
    loaded: &Loaded,
    s: &Scenario,
    visitor: &mut Visitor,
    headers: &axum::http::HeaderMap,
) -> Result<(), AppError> {
    match visitor.session.rehearsals.get(&s.id) {
        Some(r) if r.version == s.fingerprint => Ok(()),
        Some(_) => {
            // The scenario changed since: start again, saying why.
            let r = Rehearsal::start(s, visitor.session.rehearsals[&s.id].seed, now());
            let to = routes::step(&s.id, &r.current(s).id);
            visitor.session.put(r);
            visitor.session.notice = Some("Ce scénario a été mis à jour : l'entraînement recommence au début.".into());
            visitor.save(state).await?;
            Err(AppError::answer(redirect(state, &to)))
        }
        None if visitor.lost_a_session() => {
            // Said plainly, in the scenario's own look: never a 500.
            visitor.save(state).await?;
            let ctx = minijinja::context! {
                scenario => scenario_value(loaded, s),
                urls => urls(loaded, s),
                ..page(loaded, &s.theme, Some(visitor), &routes::scenario(&s.id))
            };
            let response = render(loaded, &s.theme, "session-expiree.html", StatusCode::OK, ctx)?;
            Err(AppError::answer(with_cookie(response, state, visitor, headers)))
        }
        None => Err(AppError::answer(redirect(state, &routes::scenario(&s.id)))),
    }
}

/// The workshop of `/atelier/animation/{token}`: 404 when there is none
/// (a wrong token, or a workshop ended).
pub(super) struct TrainerRoom {
    pub(crate) token: String,
    pub(crate) room: Arc<Room>,
}

impl FromRequestParts<Shared> for TrainerRoom {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<TrainerRoom, AppError> {
        let Path(at) = Path::<TrainerAt>::from_request_parts(parts, state).await.map_err(|e| AppError::answer(e.into_response()))?;
        let room = state.workshops.by_token(&at.token).ok_or(AppError::NotFound)?;
        Ok(TrainerRoom { token: at.token, room })
    }
}

/// Whether the browser says the request comes from this site's own pages
/// or the address bar (see [`super::origin::from_this_site`]).
pub(super) struct FromThisSite(pub bool);

impl FromRequestParts<Shared> for FromThisSite {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &Shared) -> Result<FromThisSite, Self::Rejection> {
        Ok(FromThisSite(super::origin::from_this_site(&parts.headers, &parts.uri)))
    }
}

/// `T` taken after the request's form body is read: a body over the limit
/// is refused (413) before anything else is looked at, as a handler's
/// last `Bytes` argument would be.
pub(super) struct Posted<T> {
    pub(crate) then: T,
    pub(crate) body: Bytes,
}

impl<T> FromRequest<Shared> for Posted<T>
where
    T: FromRequestParts<Shared, Rejection = AppError> + Send,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &Shared) -> Result<Posted<T>, AppError> {
        let (mut parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, super::respond::BODY_LIMIT).await.map_err(|_| AppError::PayloadTooLarge)?;
        let then = T::from_request_parts(&mut parts, state).await?;
        Ok(Posted { then, body })
    }
}
