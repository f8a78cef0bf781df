//! The handlers: each page of a miroir site. Everything a visitor reads is
//! in French; the words come from theme templates.

use super::page_cache::Inputs;
use super::render::Ctx;
use super::visitor::{Visitor, saved_or_return, visitor_or_return};
use super::{AppState, Loaded, Shared};
use crate::persona::Persona;
use crate::rehearsal::view::card as persona_card;
use crate::rehearsal::{LinkOutcome, Outcome, Rehearsal, ScenarioError, Stage};
use crate::scenario::Scenario;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Value;
use std::sync::Arc;

type ScenarioPath = Path<(String, String)>;

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A new persona seed: six digits, easy to read out in a workshop.
pub fn new_seed() -> u64 {
    (uuid::Uuid::new_v4().as_u128() % 999_999) as u64 + 1
}

pub(super) fn html(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Adds the session cookie when the session is new.
fn with_cookie(mut response: Response, state: &Shared, visitor: &Visitor, request: &HeaderMap) -> Response {
    if let Some(cookie) = visitor.set_cookie(state, request) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn scenario_url(s: &Scenario) -> String {
    format!("/scenarios/{}", s.id)
}

fn step_url(s: &Scenario, r: &Rehearsal) -> String {
    format!("{}/etape/{}", scenario_url(s), r.current(s).id)
}

/// The scenario at `/scenarios/{op}/{name}`, if the library has it.
pub(super) fn find(loaded: &Loaded, op: &str, name: &str) -> Option<Arc<Scenario>> {
    loaded.library.get(&format!("{op}/{name}")).cloned()
}

/// The persona seed a page was asked for (`?graine=N`, 1 to 2³² − 1).
pub(super) fn seed_of(q: &std::collections::HashMap<String, String>) -> Option<u64> {
    q.get("graine").and_then(|g| g.trim().parse::<u64>().ok()).filter(|g| (1..=u64::from(u32::MAX)).contains(g))
}

/// The name of an operator as the catalogue shows it: its theme's label.
fn operator_label(loaded: &Loaded, operator: &str) -> String {
    match loaded.library.themes.get(operator) {
        Some(theme) => theme.label.clone(),
        None => {
            let mut chars = operator.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

/// What pages show of a scenario, made once per loaded library (see
/// [`Prepared`]); a scenario outside it is made on the spot.
fn scenario_value(loaded: &Loaded, s: &Scenario) -> Value {
    match loaded.prepared.get(&s.id) {
        Some(p) if std::ptr::eq(&*p.scenario, s) => p.value.clone(),
        _ => make_scenario_value(loaded, s),
    }
}

fn make_scenario_value(loaded: &Loaded, s: &Scenario) -> Value {
    context! {
        id => s.id.clone(),
        url => scenario_url(s),
        title => s.title.clone(),
        operator => s.operator.clone(),
        operator_label => operator_label(loaded, &s.operator),
        summary => s.summary.clone(),
        level => s.level.label(),
        duration_minutes => s.duration_minutes,
        valid_as_of => s.valid_as_of.clone(),
        checked_on => s.checked_on(),
        sources => s.sources.clone(),
        real_site => s.real_site.clone(),
    }
}

/// Links of a rehearsal's pages, made once per loaded library.
fn urls(loaded: &Loaded, s: &Scenario) -> Value {
    match loaded.prepared.get(&s.id) {
        Some(p) if std::ptr::eq(&*p.scenario, s) => p.urls.clone(),
        _ => make_urls(s),
    }
}

/// A scenario's values for the templates, made once: they are the same on
/// every page of it, and making them was a tenth of a step page's render.
pub struct Prepared {
    scenario: Arc<Scenario>,
    value: Value,
    urls: Value,
}

impl Prepared {
    /// Every scenario of the library, by id.
    pub fn all(loaded: &Loaded) -> std::collections::HashMap<String, Prepared> {
        loaded
            .library
            .scenarios
            .iter()
            .map(|(id, s)| (id.clone(), Prepared { scenario: s.clone(), value: make_scenario_value(loaded, s), urls: make_urls(s) }))
            .collect()
    }
}

fn make_urls(s: &Scenario) -> Value {
    let base = scenario_url(s);
    context! {
        scenario => base.clone(),
        start => format!("{base}/commencer"),
        step => format!("{base}/etape"),
        back => format!("{base}/precedent"),
        edit => format!("{base}/modifier"),
        reset => format!("{base}/recommencer"),
        new_persona => format!("{base}/nouvelle-personne"),
        card => format!("{base}/fiche"),
        inbox => format!("{base}/messagerie"),
        clock => format!("{base}/horloge"),
        document => format!("{base}/document"),
    }
}

/// What every page knows.
fn page(loaded: &Loaded, theme: &str, visitor: Option<&Visitor>, path: &str) -> Ctx {
    let label = loaded.library.themes.get(theme).map(|t| t.label.clone()).unwrap_or_default();
    Ctx::default()
        .with("service", label)
        .with("theme", theme)
        .with("hints_shown", visitor.is_none_or(|v| !v.session.hints_hidden))
        .with("in_workshop", visitor.is_some_and(|v| v.session.workshop.is_some()))
        .with("here", path)
        .with("catalogue_url", loaded.renderer.home())
        .with("accessibility_url", "/accessibilite")
        .with("hints_url", "/indices")
}

fn render(state: &Shared, loaded: &Loaded, theme: &str, template: &str, status: StatusCode, ctx: impl Into<Value>) -> Response {
    match rendered(state, loaded, theme, template, ctx) {
        Ok(body) => html(status, body),
        Err(failure) => failure,
    }
}

/// What a page of the base theme knows, outside any rehearsal (author and
/// workshop pages).
pub(super) fn base_page(loaded: &Loaded, here: &str) -> Value {
    page(loaded, crate::theme::BASE, None, here).into()
}

/// Renders a page of the base theme.
pub(super) fn render_base(state: &Shared, loaded: &Loaded, template: &str, status: StatusCode, ctx: Value) -> Response {
    render(state, loaded, crate::theme::BASE, template, status, ctx)
}

/// A page's bytes, or the error page to answer instead (a rare path: its
/// size does not matter).
#[allow(clippy::result_large_err)]
fn rendered(state: &Shared, loaded: &Loaded, theme: &str, template: &str, ctx: impl Into<Value>) -> Result<Bytes, Response> {
    loaded.renderer.render(theme, template, ctx.into()).map(Bytes::from).map_err(|e| {
        tracing::error!(theme, template, error = %e, "template failed");
        error_page(state, StatusCode::INTERNAL_SERVER_ERROR)
    })
}

/// The page when visitors' sessions cannot be reached (Redis away): 503,
/// to try again shortly; nothing is lost.
pub fn unavailable(state: &AppState) -> Response {
    let mut response = error_page(state, StatusCode::SERVICE_UNAVAILABLE);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
    response
}

/// A page of refusal or failure, from the base theme.
pub fn error_page(state: &AppState, status: StatusCode) -> Response {
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
    let ctx = context! { status => status.as_u16(), title => title, text => text, ..page(&loaded, crate::theme::BASE, None, "/") };
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

pub async fn not_found(State(state): State<Shared>) -> Response {
    error_page(&state, StatusCode::NOT_FOUND)
}

/// A mistake in the scenario, found while running it.
fn scenario_error(state: &Shared, loaded: &Loaded, s: &Scenario, e: &ScenarioError) -> Response {
    tracing::error!(scenario = %s.id, step = %e.step, error = %e.message, "scenario error");
    let ctx = context! {
        scenario => scenario_value(loaded, s),
        step => e.step.clone(),
        message => e.message.clone(),
        ..page(loaded, &s.theme, None, "/")
    };
    render(state, loaded, crate::theme::BASE, "scenario-erreur.html", StatusCode::INTERNAL_SERVER_ERROR, ctx)
}

pub async fn catalogue(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let loaded = state.loaded();
    let visitor = visitor_or_return!(&state, &headers);
    let groups: Vec<Value> = loaded
        .library
        .by_operator()
        .into_iter()
        .map(|(operator, scenarios)| {
            let items: Vec<Value> = scenarios
                .iter()
                .map(|s| {
                    let started = visitor.session.rehearsals.contains_key(&s.id);
                    context! { started => started, ..scenario_value(&loaded, s) }
                })
                .collect();
            context! { operator => operator, label => operator_label(&loaded, operator), scenarios => items }
        })
        .collect();
    let ctx = context! { groups => groups, ..page(&loaded, crate::theme::BASE, Some(&visitor), "/") };
    render(&state, &loaded, crate::theme::BASE, "catalogue.html", StatusCode::OK, ctx)
}

pub async fn accessibility(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let loaded = state.loaded();
    let visitor = visitor_or_return!(&state, &headers);
    let ctx = page(&loaded, crate::theme::BASE, Some(&visitor), "/accessibilite");
    render(&state, &loaded, crate::theme::BASE, "accessibilite.html", StatusCode::OK, ctx)
}

pub async fn scenario_page(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    let loaded = state.loaded();
    let Some(s) = find(&loaded, &op, &name) else { return error_page(&state, StatusCode::NOT_FOUND) };
    let mut visitor = visitor_or_return!(&state, &headers);
    let notice = match take_notice(&state, &mut visitor).await {
        Ok(notice) => notice,
        Err(unavailable) => return unavailable,
    };
    let started = visitor.session.rehearsals.get(&s.id).map(|r| r.current(&s).title.source().to_owned());
    let ctx = context! {
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        started => started.is_some(),
        notice => notice,
        ..page(&loaded, &s.theme, Some(&visitor), &scenario_url(&s))
    };
    render(&state, &loaded, &s.theme, "scenario.html", StatusCode::OK, ctx)
}

/// The notice to show once, forgotten as it is shown (or the 503 page).
async fn take_notice(state: &Shared, visitor: &mut Visitor) -> Result<Option<String>, Response> {
    let notice = visitor.session.notice.take();
    if notice.is_some() {
        visitor.save(state).await?;
    }
    Ok(notice)
}

pub async fn start(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    let loaded = state.loaded();
    let Some(s) = find(&loaded, &op, &name) else { return error_page(&state, StatusCode::NOT_FOUND) };
    let mut visitor = visitor_or_return!(&state, &headers);
    let fresh_start = match visitor.session.rehearsals.get(&s.id) {
        Some(r) => r.version != s.fingerprint,
        None => true,
    };
    if fresh_start {
        visitor.session.put(Rehearsal::start(&s, new_seed(), now()));
        if visitor.lost_a_session() {
            visitor.session.notice = Some("Votre session d'entraînement avait expiré : un nouvel entraînement commence.".into());
        }
    }
    saved_or_return!(&state, visitor);
    let to = step_url(&s, &visitor.session.rehearsals[&s.id]);
    with_cookie(redirect(&to), &state, &visitor, &headers)
}

/// The rehearsal of a scenario, or the response to give when there is none.
enum Found {
    Rehearsal(Box<Rehearsal>),
    Response(Response),
}

async fn rehearsal_of(state: &Shared, loaded: &Loaded, s: &Scenario, visitor: &mut Visitor, headers: &HeaderMap) -> Found {
    match visitor.session.rehearsals.get(&s.id) {
        Some(r) if r.version == s.fingerprint => Found::Rehearsal(Box::new(r.clone())),
        Some(_) => {
            // The scenario changed since: start again, saying why.
            let r = Rehearsal::start(s, visitor.session.rehearsals[&s.id].seed, now());
            let to = step_url(s, &r);
            visitor.session.put(r);
            visitor.session.notice = Some("Ce scénario a été mis à jour : l'entraînement recommence au début.".into());
            match visitor.save(state).await {
                Ok(()) => Found::Response(redirect(&to)),
                Err(unavailable) => Found::Response(unavailable),
            }
        }
        None if visitor.lost_a_session() => {
            // Said plainly, in the scenario's own look: never a 500.
            if let Err(unavailable) = visitor.save(state).await {
                return Found::Response(unavailable);
            }
            let ctx = context! {
                scenario => scenario_value(loaded, s),
                urls => urls(loaded, s),
                ..page(loaded, &s.theme, Some(visitor), &scenario_url(s))
            };
            let response = render(state, loaded, &s.theme, "session-expiree.html", StatusCode::OK, ctx);
            Found::Response(with_cookie(response, state, visitor, headers))
        }
        None => Found::Response(redirect(&scenario_url(s))),
    }
}

macro_rules! rehearsal_or_return {
    ($state:expr, $loaded:expr, $s:expr, $visitor:expr, $headers:expr) => {
        match rehearsal_of($state, $loaded, $s, $visitor, $headers).await {
            Found::Rehearsal(r) => *r,
            Found::Response(response) => return response,
        }
    };
}

macro_rules! scenario_or_404 {
    ($state:expr, $loaded:expr, $op:expr, $name:expr) => {
        match find($loaded, &$op, &$name) {
            Some(s) => s,
            None => return error_page($state, StatusCode::NOT_FOUND),
        }
    };
}

pub async fn current_step(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    redirect(&step_url(&s, &r))
}

fn persona_of(s: &Scenario, r: &Rehearsal) -> std::sync::Arc<Persona> {
    r.persona(s, now())
}

/// Renders the current step, with the errors of a refused submit if any.
async fn show_step(
    state: &Shared,
    loaded: &Loaded,
    s: &Scenario,
    visitor: &mut Visitor,
    r: &Rehearsal,
    refused: Option<(&[crate::rehearsal::FieldError], &std::collections::BTreeMap<String, String>)>,
) -> Response {
    let t = now();
    let notice = match take_notice(state, visitor).await {
        Ok(notice) => notice,
        Err(unavailable) => return unavailable,
    };
    // A page with errors or a one-time notice is never kept.
    let key = match (refused, &notice) {
        (None, None) => loaded.pages.key(
            r,
            &Inputs {
                session: visitor.id,
                minute: t / 60,
                minutes: r.minutes(t),
                hints_shown: !visitor.session.hints_hidden,
                in_workshop: visitor.session.workshop.is_some(),
            },
        ),
        _ => None,
    };
    if let Some(page) = key.and_then(|k| loaded.pages.get(k)) {
        return html(StatusCode::OK, page);
    }
    let persona = persona_of(s, r);
    let stage = Stage { scenario: s, persona: &persona };
    let view = match r.view(stage, t, refused) {
        Ok(v) => v,
        Err(e) => return scenario_error(state, loaded, s, &e),
    };
    let unread = r.inbox.iter().filter(|m| !m.read).count();
    let template = if loaded.renderer.has_template(&view.theme, &view.template) { view.template.clone() } else { "form.html".to_owned() };
    let theme = view.theme.clone();
    let ctx: Value = page(loaded, &theme, Some(visitor), &step_url(s, r))
        .with("view", super::view_value::step(view))
        .with("scenario", scenario_value(loaded, s))
        .with("urls", urls(loaded, s))
        .with("unread", unread)
        .with("notice", notice)
        .with("persona_name", format!("{} {}", persona.text("prenom"), persona.text("nom")))
        .into();
    match rendered(state, loaded, &theme, &template, ctx) {
        Ok(body) => {
            if let Some(k) = key {
                loaded.pages.put(k, body.clone());
            }
            html(StatusCode::OK, body)
        }
        Err(failure) => failure,
    }
}

pub async fn step_page(
    State(state): State<Shared>,
    Path((op, name, step)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    if r.current(&s).id != step {
        // Steps are reached by the buttons of the pages, not by address.
        return redirect(&step_url(&s, &r));
    }
    show_step(&state, &loaded, &s, &mut visitor, &r, None).await
}

/// Decodes an urlencoded form, keeping repeated names (checkboxes).
fn form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

pub async fn submit(
    State(state): State<Shared>,
    Path((op, name, step)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let mut r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    if r.current(&s).id != step {
        visitor.session.notice = Some("Cette page avait déjà été validée : voici où vous en êtes.".into());
        saved_or_return!(&state, visitor);
        return redirect(&step_url(&s, &r));
    }
    let values = form(&body);
    let persona = persona_of(&s, &r);
    let outcome = r.submit(Stage { scenario: &s, persona: &persona }, &values, now());
    drop(values);
    match outcome {
        // Only a forged form names an action the page does not offer.
        Ok(Outcome::UnknownAction) => error_page(&state, StatusCode::BAD_REQUEST),
        Ok(Outcome::Invalid { errors, values }) => {
            super::workshops::report(&state, &visitor, &s, &r, true);
            visitor.session.put(r.clone());
            saved_or_return!(&state, visitor);
            show_step(&state, &loaded, &s, &mut visitor, &r, Some((&errors, &values))).await
        }
        Ok(outcome) => {
            super::workshops::report(&state, &visitor, &s, &r, false);
            let to = step_url(&s, &r);
            visitor.session.put(r);
            if let Outcome::Listed(Some(status)) = outcome {
                // Said once on the list's page, as a status message.
                visitor.session.notice = Some(status);
            }
            saved_or_return!(&state, visitor);
            redirect(&to)
        }
        Err(e) => scenario_error(&state, &loaded, &s, &e),
    }
}

/// Applies `change` to the rehearsal, saves, and goes to the current step.
async fn change_rehearsal(
    state: Shared,
    op: String,
    name: String,
    headers: HeaderMap,
    change: impl FnOnce(&Scenario, &mut Rehearsal) -> Option<String>,
) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let mut r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    let notice = change(&s, &mut r);
    super::workshops::report(&state, &visitor, &s, &r, false);
    let to = step_url(&s, &r);
    visitor.session.put(r);
    if notice.is_some() {
        visitor.session.notice = notice;
    }
    saved_or_return!(&state, visitor);
    redirect(&to)
}

pub async fn back(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    change_rehearsal(state, op, name, headers, |s, r| {
        r.back(s);
        None
    })
    .await
}

/// "Modifier" on the récapitulatif; `element=N` (from 1) changes item N of a list.
pub async fn edit(
    State(state): State<Shared>,
    Path((op, name, step)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let item = form(&body).into_iter().find(|(k, _)| k == "element").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    change_rehearsal(state, op, name, headers, move |s, r| {
        let done = match item {
            Some(n) if n >= 1 => r.edit_item(s, &step, n - 1),
            Some(_) => false,
            None => r.edit(s, &step),
        };
        (!done).then(|| "Cette réponse ne peut pas être modifiée depuis cette page.".to_owned())
    })
    .await
}

/// The page that asks before "Recommencer" (`reset`) or "Nouvelle
/// personne" (`new_persona`): a palm on a tablet must not wipe a rehearsal.
async fn confirm(state: Shared, op: String, name: String, headers: HeaderMap, kind: &str) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let _ = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    let ctx = context! {
        kind => kind,
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        ..page(&loaded, &s.theme, Some(&visitor), &scenario_url(&s))
    };
    render(&state, &loaded, &s.theme, "confirm.html", StatusCode::OK, ctx)
}

pub async fn confirm_reset(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    confirm(state, op, name, headers, "reset").await
}

pub async fn confirm_new_persona(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    confirm(state, op, name, headers, "new_persona").await
}

pub async fn reset(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    change_rehearsal(state, op, name, headers, |s, r| {
        r.reset(s, now());
        Some("L'entraînement recommence au début, avec la même personne.".to_owned())
    })
    .await
}

pub async fn new_persona(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    change_rehearsal(state, op, name, headers, |s, r| {
        let mut seed = new_seed();
        if seed == r.seed {
            seed = seed % 999_999 + 1;
        }
        r.restart_with(s, seed, now());
        Some("Une nouvelle personne vous est attribuée : consultez sa fiche personnage.".to_owned())
    })
    .await
}

pub async fn card(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    let persona = persona_of(&s, &r);
    let ctx = context! {
        card => crate::expr::to_value(&persona_card(&s, &persona)),
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        step_url => step_url(&s, &r),
        unread => r.inbox.iter().filter(|m| !m.read).count(),
        ..page(&loaded, &s.theme, Some(&visitor), &format!("{}/fiche", scenario_url(&s)))
    };
    render(&state, &loaded, &s.theme, "card.html", StatusCode::OK, ctx)
}

pub async fn inbox(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    let persona = persona_of(&s, &r);
    let messages = match r.inbox_view(Stage { scenario: &s, persona: &persona }, now()) {
        Ok(m) => m,
        Err(e) => return scenario_error(&state, &loaded, &s, &e),
    };
    let notice = match take_notice(&state, &mut visitor).await {
        Ok(notice) => notice,
        Err(unavailable) => return unavailable,
    };
    let ctx = context! {
        messages => crate::expr::to_value(&messages),
        email => persona.text("email"),
        phone => crate::persona::ids::format_phone(&persona.text("telephone")),
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        step_url => step_url(&s, &r),
        unread => r.inbox.iter().filter(|m| !m.read).count(),
        notice => notice,
        ..page(&loaded, &s.theme, Some(&visitor), &format!("{}/messagerie", scenario_url(&s)))
    };
    render(&state, &loaded, &s.theme, "inbox.html", StatusCode::OK, ctx)
}

/// A message of the inbox. Opening it marks it read, a change made on a
/// GET: only when the visit comes from this site's own pages (or the
/// address bar), never from a link on another site.
pub async fn message(
    State(state): State<Shared>,
    Path((op, name, n)): Path<(String, String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let mut r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    let Some(index) = n.parse::<usize>().ok().filter(|i| *i < r.inbox.len()) else {
        return error_page(&state, StatusCode::NOT_FOUND);
    };
    let from_here = super::security::from_this_site(&headers, &uri);
    if from_here {
        r.open_message(index);
    }
    let persona = persona_of(&s, &r);
    let messages = match r.inbox_view(Stage { scenario: &s, persona: &persona }, now()) {
        Ok(m) => m,
        Err(e) => return scenario_error(&state, &loaded, &s, &e),
    };
    let Some(message) = messages.into_iter().find(|m| m.index == index) else {
        return error_page(&state, StatusCode::NOT_FOUND);
    };
    let unread = r.inbox.iter().filter(|m| !m.read).count();
    let step = step_url(&s, &r);
    if from_here {
        visitor.session.put(r);
        saved_or_return!(&state, visitor);
    }
    let ctx = context! {
        message => crate::expr::to_value(&message),
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        step_url => step,
        unread => unread,
        ..page(&loaded, &s.theme, Some(&visitor), &format!("{}/messagerie/{index}", scenario_url(&s)))
    };
    render(&state, &loaded, &s.theme, "message.html", StatusCode::OK, ctx)
}

pub async fn follow_link(State(state): State<Shared>, Path((op, name, n)): Path<(String, String, String)>, headers: HeaderMap) -> Response {
    change_rehearsal(state, op, name, headers, move |s, r| {
        let index = n.parse::<usize>().unwrap_or(usize::MAX);
        match r.follow_link(s, index, now()) {
            LinkOutcome::Moved => None,
            LinkOutcome::Expired => Some("Ce lien a expiré : il n'est plus valable.".to_owned()),
            LinkOutcome::AlreadyUsed => Some("Ce lien a déjà été utilisé.".to_owned()),
            LinkOutcome::NoLink => Some("Ce message ne contient pas de lien.".to_owned()),
        }
    })
    .await
}

/// The choices of "faire passer le temps", in minutes.
pub const WAITS: [(u32, &str); 4] = [(15, "15 minutes"), (60, "1 heure"), (540, "9 heures"), (1440, "1 jour")];

pub async fn wait(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap, body: Bytes) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let mut r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    let minutes = form(&body).into_iter().find(|(k, _)| k == "minutes").and_then(|(_, v)| v.parse::<u32>().ok());
    // Only the durations the form offers: anything else is a forged or
    // stale form, said so rather than ignored.
    let Some((m, label)) = WAITS.iter().find(|(m, _)| Some(*m) == minutes) else {
        return error_page(&state, StatusCode::BAD_REQUEST);
    };
    r.wait(*m);
    visitor.session.notice = Some(format!("Le temps a passé : {label} de plus."));
    visitor.session.put(r);
    saved_or_return!(&state, visitor);
    redirect(&format!("{}/messagerie", scenario_url(&s)))
}

pub async fn document(State(state): State<Shared>, Path((op, name)): ScenarioPath, headers: HeaderMap) -> Response {
    let loaded = state.loaded();
    let s = scenario_or_404!(&state, &loaded, op, name);
    let mut visitor = visitor_or_return!(&state, &headers);
    let r = rehearsal_or_return!(&state, &loaded, &s, &mut visitor, &headers);
    let step = r.current(&s);
    let Some(doc) = &step.document else { return redirect(&step_url(&s, &r)) };
    let persona = persona_of(&s, &r);
    let t = now();
    let theme = step.theme.clone().unwrap_or_else(|| s.theme.clone());
    let own = context! {
        document => context! { title => doc.title.clone(), template => doc.template.clone() },
        step_url => step_url(&s, &r),
        urls => urls(&loaded, &s),
        scenario_info => scenario_value(&loaded, &s),
    };
    let ctx = minijinja::value::merge_maps([
        own,
        page(&loaded, &theme, Some(&visitor), &format!("{}/document", scenario_url(&s))).into(),
        r.context(Stage { scenario: &s, persona: &persona }, t),
    ]);
    render(&state, &loaded, &theme, "document.html", StatusCode::OK, ctx)
}

pub async fn toggle_hints(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut visitor = visitor_or_return!(&state, &headers);
    visitor.session.hints_hidden = !visitor.session.hints_hidden;
    saved_or_return!(&state, visitor);
    let back = form(&body).into_iter().find(|(k, _)| k == "retour").map(|(_, v)| v);
    let to = back.filter(|p| own_page(p)).unwrap_or_else(|| "/".into());
    with_cookie(redirect(&to), &state, &visitor, &headers)
}

/// Whether `path` is written as a page of this site is: `/`, or segments of
/// letters, digits and `-_.$` under one of the site's top-level routes.
/// Never an open redirect: `//evil.example`, `/\evil.example`, and
/// `/\t/evil.example` (browsers drop the tab and read `//evil.example`)
/// are all refused, as is anything encoded.
fn own_page(path: &str) -> bool {
    const TOP: [&str; 4] = ["scenarios", "atelier", "auteur", "accessibilite"];
    let segment = |s: &str| {
        !s.is_empty() && s != "." && s != ".." && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'$'))
    };
    match path.strip_prefix('/') {
        Some("") => true,
        Some(rest) => rest.split('/').next().is_some_and(|top| TOP.contains(&top)) && rest.split('/').all(segment),
        None => false,
    }
}

pub async fn robots() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "User-agent: *\nDisallow: /\n").into_response()
}

pub async fn healthz(State(state): State<Shared>) -> Response {
    let loaded = state.loaded();
    let body = serde_json::json!({
        "status": "ok",
        "scenarios": loaded.library.scenarios.len(),
        "files_with_errors": loaded.library.broken_files().len(),
        "sessions": state.store.count(),
        "session_store": if state.store.available() { "ok" } else { "unavailable" },
    });
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body.to_string()).into_response()
}

pub async fn engine_asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "miroir.css" => (super::render::ENGINE_CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (super::render::FAVICON, "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// Theme assets are looked up in memory by exact name: a path can never
/// reach the file system.
pub async fn theme_asset(State(state): State<Shared>, Path((theme, path)): Path<(String, String)>) -> Response {
    if path.split('/').any(|part| part == ".." || part.is_empty()) || path.contains('\\') {
        return StatusCode::NOT_FOUND.into_response();
    }
    let loaded = state.loaded();
    match loaded.library.themes.asset(&theme, &path) {
        Some(asset) => {
            ([(header::CONTENT_TYPE, asset.content_type), (header::CACHE_CONTROL, "public, max-age=3600")], asset.bytes.to_vec())
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
