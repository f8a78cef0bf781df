//! The handlers of a visitor's pages: the catalogue, a scenario's page and
//! its rehearsal (steps, persona card, inbox, clock, document), and the
//! site's small files. Everything a visitor reads is in French; the words
//! come from theme templates.

use super::Loaded;
use super::Shared;
use super::error::{Answer, AppError};
use super::extract::{FromThisSite, Posted, Rehearsing, Scene};
use super::page_cache::Inputs;
use super::prepared::{operator_label, scenario_value, urls};
use super::respond::{form, html, new_seed, now, page, redirect, render, rendered, with_cookie};
use super::routes::{self, scenario as at};
use super::visitor::Visitor;
use crate::persona::Persona;
use crate::rehearsal::view::card as persona_card;
use crate::rehearsal::{LinkOutcome, Outcome, Rehearsal, ScenarioError, Stage};
use crate::scenario::{Document, Scenario};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::context;
use minijinja::value::Value;
use serde::Deserialize;

pub(super) fn routes() -> Router<Shared> {
    let under = |sub| routes::nested(routes::SCENARIO, sub);
    Router::new()
        .route(routes::HOME, get(catalogue))
        .route(routes::ACCESSIBILITY, get(accessibility))
        .route(routes::HINTS, post(toggle_hints))
        .route(routes::ROBOTS, get(robots))
        .route(routes::HEALTHZ, get(healthz))
        .route(routes::ENGINE_ASSET, get(engine_asset))
        .route(routes::THEME_ASSET, get(theme_asset))
        .route(&under(at::PAGE), get(scenario_page))
        .route(&under(at::START), post(start))
        .route(&under(at::STEP), get(current_step))
        .route(&under(at::STEP_AT), get(step_page).post(submit))
        .route(&under(at::BACK), post(back))
        .route(&under(at::EDIT_AT), post(edit))
        .route(&under(at::RESET), get(confirm_reset).post(reset))
        .route(&under(at::NEW_PERSONA), get(confirm_new_persona).post(new_persona))
        .route(&under(at::CARD), get(card))
        .route(&under(at::INBOX), get(inbox))
        .route(&under(at::MESSAGE), get(message))
        .route(&under(at::MESSAGE_LINK), post(follow_link))
        .route(&under(at::CLOCK), post(wait))
        .route(&under(at::DOCUMENT), get(document))
}

/// The `{step}` of a step's address.
#[derive(Deserialize)]
struct StepAt {
    step: String,
}

/// The `{n}` of a message's address.
#[derive(Deserialize)]
struct MessageAt {
    n: String,
}

fn step_url(s: &Scenario, r: &Rehearsal) -> String {
    routes::step(&s.id, &r.current(s).id)
}

fn persona_of(s: &Scenario, r: &Rehearsal) -> std::sync::Arc<Persona> {
    r.persona(s, now())
}

pub(super) async fn not_found() -> AppError {
    AppError::NotFound
}

/// A mistake in the scenario, found while running it.
fn scenario_error(loaded: &Loaded, s: &Scenario, e: &ScenarioError) -> AppError {
    tracing::error!(scenario = %s.id, step = %e.step, error = %e.message, "scenario error");
    let ctx = context! {
        scenario => scenario_value(loaded, s),
        step => e.step.clone(),
        message => e.message.clone(),
        ..page(loaded, &s.theme, None, routes::HOME)
    };
    match render(loaded, crate::theme::BASE, "scenario-erreur.html", StatusCode::INTERNAL_SERVER_ERROR, ctx) {
        Ok(response) => AppError::answer(response),
        Err(e) => e,
    }
}

async fn catalogue(State(state): State<Shared>, visitor: Visitor) -> Answer {
    let loaded = state.loaded();
    // The same for every visitor who started the same scenarios, with the
    // same settings: kept as step pages are (most visitors have none).
    let mut started: Vec<&str> = visitor.session.rehearsals.iter().map(|r| r.scenario.as_str()).collect();
    started.sort_unstable();
    let (hints_hidden, in_workshop) = (visitor.session.hints_hidden, visitor.session.workshop.is_some());
    let key = loaded.pages.key_of(&(routes::HOME, hints_hidden, in_workshop, &started));
    if let Some(page) = key.and_then(|k| loaded.pages.get(k)) {
        return Ok(html(StatusCode::OK, page));
    }
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
    let ctx = context! { groups => groups, ..page(&loaded, crate::theme::BASE, Some(&visitor), routes::HOME) };
    let body = rendered(&loaded, crate::theme::BASE, "catalogue.html", ctx)?;
    if let Some(k) = key {
        loaded.pages.put(k, body.clone());
    }
    Ok(html(StatusCode::OK, body))
}

async fn accessibility(State(state): State<Shared>, visitor: Visitor) -> Answer {
    let loaded = state.loaded();
    let ctx = page(&loaded, crate::theme::BASE, Some(&visitor), routes::ACCESSIBILITY);
    render(&loaded, crate::theme::BASE, "accessibilite.html", StatusCode::OK, ctx)
}

async fn scenario_page(State(state): State<Shared>, Scene { loaded, s }: Scene, mut visitor: Visitor) -> Answer {
    let notice = visitor.take_notice(&state).await?;
    let started = visitor.session.rehearsals.get(&s.id).map(|r| r.current(&s).title.source().to_owned());
    let ctx = context! {
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        started => started.is_some(),
        notice => notice,
        ..page(&loaded, &s.theme, Some(&visitor), &routes::scenario(&s.id))
    };
    render(&loaded, &s.theme, "scenario.html", StatusCode::OK, ctx)
}

async fn start(State(state): State<Shared>, Scene { s, .. }: Scene, headers: HeaderMap, mut visitor: Visitor) -> Answer {
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
    visitor.save(&state).await?;
    let to = step_url(&s, &visitor.session.rehearsals[&s.id]);
    Ok(with_cookie(redirect(&state, &to), &state, &visitor, &headers))
}

async fn current_step(State(state): State<Shared>, rehearsing: Rehearsing) -> Answer {
    Ok(redirect(&state, &step_url(&rehearsing.s, rehearsing.r())))
}

/// Renders the current step, with the errors of a refused submit if any.
fn show_step(
    loaded: &Loaded,
    s: &Scenario,
    visitor: &Visitor,
    r: &Rehearsal,
    refused: Option<(&[crate::rehearsal::FieldError], &std::collections::BTreeMap<String, String>)>,
    notice: Option<String>,
) -> Answer {
    let t = now();
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
        return Ok(html(StatusCode::OK, page));
    }
    let persona = persona_of(s, r);
    let stage = Stage { scenario: s, persona: &persona };
    let view = r.view(stage, t, refused).map_err(|e| scenario_error(loaded, s, &e))?;
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
    let body = rendered(loaded, &theme, &template, ctx)?;
    if let Some(k) = key {
        loaded.pages.put(k, body.clone());
    }
    Ok(html(StatusCode::OK, body))
}

async fn step_page(State(state): State<Shared>, Path(StepAt { step }): Path<StepAt>, mut rehearsing: Rehearsing) -> Answer {
    let (s, r) = (&rehearsing.s, rehearsing.r());
    if r.current(s).id != step {
        // Steps are reached by the buttons of the pages, not by address.
        return Ok(redirect(&state, &step_url(s, r)));
    }
    let notice = rehearsing.visitor.take_notice(&state).await?;
    let Rehearsing { loaded, s, visitor } = &rehearsing;
    show_step(loaded, s, visitor, rehearsing.r(), None, notice)
}

async fn submit(State(state): State<Shared>, Path(StepAt { step }): Path<StepAt>, posted: Posted<Rehearsing>) -> Answer {
    let Posted { then, body } = posted;
    let (loaded, s, mut visitor, mut r) = then.owned();
    if r.current(&s).id != step {
        visitor.session.notice = Some("Cette page avait déjà été validée : voici où vous en êtes.".into());
        visitor.save(&state).await?;
        return Ok(redirect(&state, &step_url(&s, &r)));
    }
    let values = form(&body);
    let persona = persona_of(&s, &r);
    let outcome = r.submit(Stage { scenario: &s, persona: &persona }, &values, now());
    drop(values);
    match outcome {
        // Only a forged form names an action the page does not offer.
        Ok(Outcome::UnknownAction) => Err(AppError::BadRequest),
        Ok(Outcome::Invalid { errors, values }) => {
            visitor.report(&state, &s, &r, true);
            visitor.session.put(r.clone());
            visitor.save(&state).await?;
            let notice = visitor.take_notice(&state).await?;
            show_step(&loaded, &s, &visitor, &r, Some((&errors, &values)), notice)
        }
        Ok(outcome) => {
            visitor.report(&state, &s, &r, false);
            let to = step_url(&s, &r);
            visitor.session.put(r);
            if let Outcome::Listed(Some(status)) = outcome {
                // Said once on the list's page, as a status message.
                visitor.session.notice = Some(status);
            }
            visitor.save(&state).await?;
            Ok(redirect(&state, &to))
        }
        Err(e) => Err(scenario_error(&loaded, &s, &e)),
    }
}

/// Applies `change` to the rehearsal, saves, and goes to the current step.
async fn change_rehearsal(
    state: Shared,
    rehearsing: Rehearsing,
    change: impl FnOnce(&Scenario, &mut Rehearsal) -> Option<String>,
) -> Answer {
    let (_, s, mut visitor, mut r) = rehearsing.owned();
    let notice = change(&s, &mut r);
    visitor.report(&state, &s, &r, false);
    let to = step_url(&s, &r);
    visitor.session.put(r);
    if notice.is_some() {
        visitor.session.notice = notice;
    }
    visitor.save(&state).await?;
    Ok(redirect(&state, &to))
}

async fn back(State(state): State<Shared>, rehearsing: Rehearsing) -> Answer {
    change_rehearsal(state, rehearsing, |s, r| {
        r.back(s);
        None
    })
    .await
}

/// "Modifier" on the récapitulatif; `element=N` (from 1) changes item N of a list.
async fn edit(State(state): State<Shared>, Path(StepAt { step }): Path<StepAt>, posted: Posted<Rehearsing>) -> Answer {
    let item = form(&posted.body).into_iter().find(|(k, _)| k == "element").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    change_rehearsal(state, posted.then, move |s, r| {
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
fn confirm(Rehearsing { loaded, s, visitor, .. }: Rehearsing, kind: &str) -> Answer {
    let ctx = context! {
        kind => kind,
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        ..page(&loaded, &s.theme, Some(&visitor), &routes::scenario(&s.id))
    };
    render(&loaded, &s.theme, "confirm.html", StatusCode::OK, ctx)
}

async fn confirm_reset(rehearsing: Rehearsing) -> Answer {
    confirm(rehearsing, "reset")
}

async fn confirm_new_persona(rehearsing: Rehearsing) -> Answer {
    confirm(rehearsing, "new_persona")
}

async fn reset(State(state): State<Shared>, rehearsing: Rehearsing) -> Answer {
    change_rehearsal(state, rehearsing, |s, r| {
        r.reset(s, now());
        Some("L'entraînement recommence au début, avec la même personne.".to_owned())
    })
    .await
}

async fn new_persona(State(state): State<Shared>, rehearsing: Rehearsing) -> Answer {
    change_rehearsal(state, rehearsing, |s, r| {
        let mut seed = new_seed();
        if seed == r.seed {
            seed = seed % 999_999 + 1;
        }
        r.restart_with(s, seed, now());
        Some("Une nouvelle personne vous est attribuée : consultez sa fiche personnage.".to_owned())
    })
    .await
}

async fn card(rehearsing: Rehearsing) -> Answer {
    let Rehearsing { loaded, s, visitor } = &rehearsing;
    let r = rehearsing.r();
    let persona = persona_of(s, r);
    let ctx = context! {
        card => crate::expr::to_value(&persona_card(s, &persona)),
        scenario => scenario_value(loaded, s),
        urls => urls(loaded, s),
        step_url => step_url(s, r),
        unread => r.inbox.iter().filter(|m| !m.read).count(),
        ..page(loaded, &s.theme, Some(visitor), &routes::in_scenario(&s.id, at::CARD))
    };
    render(loaded, &s.theme, "card.html", StatusCode::OK, ctx)
}

async fn inbox(State(state): State<Shared>, rehearsing: Rehearsing) -> Answer {
    let (loaded, s, mut visitor, r) = rehearsing.owned();
    let persona = persona_of(&s, &r);
    let messages = r.inbox_view(Stage { scenario: &s, persona: &persona }, now()).map_err(|e| scenario_error(&loaded, &s, &e))?;
    let notice = visitor.take_notice(&state).await?;
    let ctx = context! {
        messages => crate::expr::to_value(&messages),
        email => persona.text("email"),
        phone => crate::persona::ids::format_phone(&persona.text("telephone")),
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        step_url => step_url(&s, &r),
        unread => r.inbox.iter().filter(|m| !m.read).count(),
        notice => notice,
        ..page(&loaded, &s.theme, Some(&visitor), &routes::in_scenario(&s.id, at::INBOX))
    };
    render(&loaded, &s.theme, "inbox.html", StatusCode::OK, ctx)
}

/// A message of the inbox. Opening it marks it read, a change made on a
/// GET: only when the visit comes from this site's own pages (or the
/// address bar), never from a link on another site.
async fn message(
    State(state): State<Shared>,
    Path(MessageAt { n }): Path<MessageAt>,
    rehearsing: Rehearsing,
    FromThisSite(from_here): FromThisSite,
) -> Answer {
    let (loaded, s, mut visitor, mut r) = rehearsing.owned();
    let index = n.parse::<usize>().ok().filter(|i| *i < r.inbox.len()).ok_or(AppError::NotFound)?;
    if from_here {
        r.open_message(index);
    }
    let persona = persona_of(&s, &r);
    let messages = r.inbox_view(Stage { scenario: &s, persona: &persona }, now()).map_err(|e| scenario_error(&loaded, &s, &e))?;
    let message = messages.into_iter().find(|m| m.index == index).ok_or(AppError::NotFound)?;
    let unread = r.inbox.iter().filter(|m| !m.read).count();
    let step = step_url(&s, &r);
    if from_here {
        visitor.session.put(r);
        visitor.save(&state).await?;
    }
    let ctx = context! {
        message => crate::expr::to_value(&message),
        link_url => routes::message_link_for_template(&s.id, index),
        scenario => scenario_value(&loaded, &s),
        urls => urls(&loaded, &s),
        step_url => step,
        unread => unread,
        ..page(&loaded, &s.theme, Some(&visitor), &routes::message(&s.id, index))
    };
    render(&loaded, &s.theme, "message.html", StatusCode::OK, ctx)
}

async fn follow_link(State(state): State<Shared>, Path(MessageAt { n }): Path<MessageAt>, rehearsing: Rehearsing) -> Answer {
    change_rehearsal(state, rehearsing, move |s, r| {
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
pub(crate) const WAITS: [(u32, &str); 4] = [(15, "15 minutes"), (60, "1 heure"), (540, "9 heures"), (1440, "1 jour")];

async fn wait(State(state): State<Shared>, posted: Posted<Rehearsing>) -> Answer {
    let Posted { then, body } = posted;
    let (_, s, mut visitor, mut r) = then.owned();
    let minutes = form(&body).into_iter().find(|(k, _)| k == "minutes").and_then(|(_, v)| v.parse::<u32>().ok());
    // Only the durations the form offers: anything else is a forged or
    // stale form, said so rather than ignored.
    let (m, label) = WAITS.iter().find(|(m, _)| Some(*m) == minutes).ok_or(AppError::BadRequest)?;
    r.wait(*m);
    visitor.session.notice = Some(format!("Le temps a passé : {label} de plus."));
    visitor.session.put(r);
    visitor.save(&state).await?;
    Ok(redirect(&state, &routes::in_scenario(&s.id, at::INBOX)))
}

async fn document(State(state): State<Shared>, rehearsing: Rehearsing) -> Answer {
    let Rehearsing { loaded, s, visitor } = &rehearsing;
    let r = rehearsing.r();
    let step = r.current(s);
    let Some(doc) = &step.document else { return Ok(redirect(&state, &step_url(s, r))) };
    let theme = step.theme.clone().unwrap_or_else(|| s.theme.clone());
    let ctx = document_context(loaded, s, r, Some(visitor), doc, &theme, now());
    render(loaded, &theme, "document.html", StatusCode::OK, ctx)
}

/// What a document page and the theme document in it read: the page's own
/// values, every page's, and the rehearsal's. With the templates' globals,
/// these are the rehearsal's roots and `expr::names::DOCUMENT_LOCALS`, the
/// names the checker lets a document read.
fn document_context(loaded: &Loaded, s: &Scenario, r: &Rehearsal, visitor: Option<&Visitor>, doc: &Document, theme: &str, t: u64) -> Value {
    let persona = persona_of(s, r);
    let own = context! {
        document => context! { title => doc.title.clone(), template => doc.template.clone() },
        step_url => step_url(s, r),
        urls => urls(loaded, s),
        scenario_info => scenario_value(loaded, s),
    };
    minijinja::value::merge_maps([
        own,
        page(loaded, theme, visitor, &routes::in_scenario(&s.id, at::DOCUMENT)).into(),
        r.context(Stage { scenario: s, persona: &persona }, t),
    ])
}

async fn toggle_hints(State(state): State<Shared>, headers: HeaderMap, posted: Posted<Visitor>) -> Answer {
    let Posted { then: mut visitor, body } = posted;
    visitor.session.hints_hidden = !visitor.session.hints_hidden;
    visitor.save(&state).await?;
    let back = form(&body).into_iter().find(|(k, _)| k == "retour").map(|(_, v)| v);
    let to = back.filter(|p| own_page(p)).unwrap_or_else(|| routes::HOME.into());
    Ok(with_cookie(redirect(&state, &to), &state, &visitor, &headers))
}

/// Whether `path` is written as a page of this site is: `/`, or segments of
/// letters, digits and `-_.$` under one of the site's top-level routes.
/// Never an open redirect: `//evil.example`, `/\evil.example`, and
/// `/\t/evil.example` (browsers drop the tab and read `//evil.example`)
/// are all refused, as is anything encoded.
fn own_page(path: &str) -> bool {
    // The first segment of the routes a page can be under.
    let top = |first: &str| {
        [routes::SCENARIO, routes::JOIN, routes::AUTHOR, routes::ACCESSIBILITY]
            .iter()
            .any(|route| route.trim_start_matches('/').split('/').next() == Some(first))
    };
    let segment = |s: &str| {
        !s.is_empty() && s != "." && s != ".." && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'$'))
    };
    match path.strip_prefix('/') {
        Some("") => true,
        Some(rest) => rest.split('/').next().is_some_and(top) && rest.split('/').all(segment),
        None => false,
    }
}

async fn robots() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "User-agent: *\nDisallow: /\n").into_response()
}

async fn healthz(State(state): State<Shared>) -> Response {
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

async fn engine_asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "miroir.css" => (super::render::ENGINE_CSS, "text/css; charset=utf-8"),
        "favicon.svg" => (super::render::FAVICON, "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// Theme assets are looked up in memory by exact name: a path can never
/// reach the file system.
async fn theme_asset(State(state): State<Shared>, Path((theme, path)): Path<(String, String)>) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::names::{DOCUMENT_LOCALS, FUNCTIONS, Root};
    use std::collections::BTreeSet;

    /// The checker lets a theme document read the rehearsal's roots and
    /// `DOCUMENT_LOCALS`: the document page gives exactly those, with the
    /// templates' globals (the functions apart).
    #[test]
    fn a_document_is_given_exactly_the_names_the_checker_accepts() {
        let loaded = Loaded::new(crate::library::Library::embedded(), &super::super::Config::default());
        let (s, doc) = loaded
            .library
            .scenarios
            .values()
            .find_map(|s| s.steps.iter().find_map(|x| x.document.clone()).map(|d| (s.clone(), d)))
            .expect("a bundled scenario prints a document");
        let t = 1_775_030_400;
        let r = Rehearsal::start(&s, 1, t);
        let ctx = document_context(&loaded, &s, &r, None, &doc, &s.theme, t);
        let mut given: BTreeSet<String> = ctx.try_iter().expect("a map").map(|k| k.to_string()).collect();
        given.extend(loaded.renderer.global_names());
        given.retain(|name| !FUNCTIONS.contains(&name.as_str()) && !super::super::render::PAGE_FUNCTIONS.contains(&name.as_str()));
        let listed: BTreeSet<String> =
            Root::ALL.iter().map(|r| r.name()).chain(DOCUMENT_LOCALS.iter().copied()).map(str::to_owned).collect();
        assert_eq!(given, listed);
        assert_eq!(DOCUMENT_LOCALS.len() + Root::ALL.len(), listed.len(), "no name listed twice");
    }
}
