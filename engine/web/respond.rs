//! What every page module shares: the clock, rendering a template into a
//! response, redirects under the base path, the error pages, and reading
//! forms and queries. Page modules import this, never one another.

pub(crate) use super::clock::{new_seed, now, today};
use super::error::AppError;
use super::render::Ctx;
use super::visitor::Visitor;
use super::{AppState, Loaded};
use crate::scenario::Scenario;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Largest request body accepted.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

pub(super) fn html(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A redirect to `path` of the site, under the base path.
pub(super) fn redirect(state: &AppState, path: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&state.url(path)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Adds the session cookie when the session is new.
pub(super) fn with_cookie(mut response: Response, state: &AppState, visitor: &Visitor, request: &HeaderMap) -> Response {
    if let Some(cookie) = visitor.set_cookie(state, request) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The scenario at `/scenarios/{op}/{name}`, if the library has it.
pub(super) fn find(loaded: &Loaded, op: &str, name: &str) -> Option<Arc<Scenario>> {
    loaded.library.get(&format!("{op}/{name}")).cloned()
}

/// The scenarios of a workshop that the library still has.
pub(super) fn scenarios_of(loaded: &Loaded, room: &crate::workshop::Room) -> Vec<Arc<Scenario>> {
    room.read(|w| w.scenarios.iter().filter_map(|id| loaded.library.get(id).cloned()).collect())
}

/// The persona seed a page was asked for (`?graine=N`, 1 to 2³² − 1).
pub(super) fn seed_of(q: &HashMap<String, String>) -> Option<u64> {
    q.get("graine").and_then(|g| g.trim().parse::<u64>().ok()).filter(|g| (1..=u64::from(u32::MAX)).contains(g))
}

/// Decodes an urlencoded form, keeping repeated names (checkboxes).
pub(super) fn form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The first value of `name` in a form, or nothing.
pub(super) fn field(values: &[(String, String)], name: &str) -> String {
    values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// What every page knows.
pub(super) fn page(loaded: &Loaded, theme: &str, visitor: Option<&Visitor>, path: &str) -> Ctx {
    let label = loaded.library.themes.get(theme).map(|t| t.label.clone()).unwrap_or_default();
    loaded
        .renderer
        .context()
        .with("service", label)
        .with("theme", theme)
        .with("hints_shown", visitor.is_none_or(|v| !v.session.hints_hidden))
        .with("in_workshop", visitor.is_some_and(|v| v.session.workshop.is_some()))
        .with("here", path)
        .with("catalogue_url", loaded.renderer.home())
        .with("accessibility_url", super::routes::ACCESSIBILITY)
        .with("hints_url", super::routes::HINTS)
}

/// A page's bytes; a template that fails is logged and answered with the
/// 500 page.
pub(super) fn rendered(loaded: &Loaded, theme: &str, template: &str, ctx: impl Into<Value>) -> Result<Bytes, AppError> {
    loaded.renderer.render(theme, template, ctx.into()).map(Bytes::from).map_err(|e| {
        tracing::error!(theme, template, error = %e, "template failed");
        AppError::Internal
    })
}

/// Renders a page of `theme`.
pub(super) fn render(
    loaded: &Loaded,
    theme: &str,
    template: &str,
    status: StatusCode,
    ctx: impl Into<Value>,
) -> Result<Response, AppError> {
    rendered(loaded, theme, template, ctx).map(|body| html(status, body))
}

/// What a page of the base theme knows, outside any rehearsal (author and
/// workshop pages).
pub(super) fn base_page(loaded: &Loaded, here: &str) -> Value {
    page(loaded, crate::theme::BASE, None, here).into()
}

/// Renders a page of the base theme.
pub(super) fn render_base(loaded: &Loaded, template: &str, status: StatusCode, ctx: Value) -> Result<Response, AppError> {
    render(loaded, crate::theme::BASE, template, status, ctx)
}

/// A page of refusal or failure, from the base theme.
pub(crate) fn error_page(state: &AppState, status: StatusCode) -> Response {
    let (title, text) = match status.as_u16() {
        400 => (
            "Demande incorrecte",
            "Ce choix n'est pas proposé par le formulaire : revenez à la page précédente et choisissez dans la liste.",
        ),
        403 => ("Action refusée", "Cette action venait d'une autre page que ce site : elle a été refusée pour vous protéger."),
        404 => ("Page introuvable", "Cette page n'existe pas, ou plus. Revenez à la liste des entraînements."),
        405 => ("Action impossible", "Cette page ne permet pas cette action."),
        413 => ("Envoi trop volumineux", "Les informations envoyées dépassent la taille autorisée."),
        503 => (
            "Service momentanément indisponible",
            "Le site d'entraînement ne peut pas retrouver les entraînements en cours pour le moment. Réessayez dans quelques instants.",
        ),
        _ => (
            "Le service a rencontré un problème",
            "Réessayez dans quelques instants. Si le problème continue, prévenez l'équipe qui gère ce site.",
        ),
    };
    let loaded = state.loaded();
    let ctx = context! { status => status.as_u16(), title => title, text => text, ..page(&loaded, crate::theme::BASE, None, super::routes::HOME) };
    match loaded.renderer.render(crate::theme::BASE, "erreur.html", ctx) {
        Ok(body) => html(status, body),
        Err(_) => html(
            status,
            super::render::inject(
                &format!(
                    "<!doctype html><html lang=\"fr\"><head><title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>"
                ),
                &state.config.base_path,
            ),
        ),
    }
}
