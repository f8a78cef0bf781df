//! Workshop pages: learners join with a code and a pseudonym; the trainer
//! opens a room, follows it live (Server-Sent Events), resets or moves
//! everyone, ends it, and prints handouts and persona cards.

use super::error::{Answer, AppError};
use super::extract::{Posted, TrainerRoom};
use super::limits::{self, JOIN_FAILURES_PER_ADDRESS, JOIN_FAILURES_PER_VISITOR, OPENINGS_PER_ADDRESS};
use super::respond::{base_page as base, field, form, new_seed, now, redirect, render_base as render, scenarios_of, with_cookie};
use super::routes::{self, TRAINER, trainer as at};
use super::visitor::Visitor;
use super::{Loaded, Shared};
use crate::rehearsal::Rehearsal;
use crate::scenario::{Scenario, StepKind};
use crate::session::{Seat, StoreError};
use crate::walkthrough;
use crate::workshop::{self, HeatCell, PersonaMode, Progress, Room, Snapshot, progress, room_title};
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::context;
use minijinja::value::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub(super) fn routes() -> Router<Shared> {
    let under = |sub| routes::nested(TRAINER, sub);
    Router::new()
        .route(routes::JOIN, get(join_form))
        .route(routes::JOIN_POST, post(join))
        .route(routes::ROOM, get(room))
        .route(routes::LEAVE, post(leave))
        .route(routes::NEW_WORKSHOP, get(new_form).post(open))
        .route(routes::CLOSED, get(closed))
        .route(&under(at::DASHBOARD), get(dashboard))
        .route(&under(at::CODE), get(projection))
        .route(&under(at::STREAM), get(stream))
        .route(&under(at::RESET_ONE), post(reset_one))
        .route(&under(at::RESET_ALL), post(reset_all))
        .route(&under(at::MOVE_ALL), post(move_all))
        .route(&under(at::END), get(confirm_end).post(end))
}

/// What a learner reads on their next page after the trainer's action.
const RESET_NOTICE: &str =
    "La personne qui anime l'atelier vous a fait recommencer : l'entraînement reprend au début, avec la même personne.";

fn moved_notice(title: &str) -> String {
    format!("La personne qui anime l'atelier vous a fait passer à l'étape « {title} » : les étapes précédentes ont été remplies pour vous.")
}

// --- Learners.

async fn join_form(State(state): State<Shared>, Query(q): Query<HashMap<String, String>>, mut visitor: Visitor) -> Answer {
    let loaded = state.loaded();
    let notice = visitor.take_notice(&state).await?;
    let code = q.get("code").map(|c| workshop::normalize_code(c)).unwrap_or_default();
    let ctx = context! { code => code, pseudonym => "", notice => notice, errors => Vec::<Value>::new(), ..base(&loaded, routes::JOIN) };
    render(&loaded, "atelier-rejoindre.html", StatusCode::OK, ctx)
}

async fn join(State(state): State<Shared>, request: Request) -> Answer {
    let (parts, body) = request.into_parts();
    let headers = parts.headers.clone();
    let address = state.client_address(&parts);
    let body = axum::body::to_bytes(body, super::respond::BODY_LIMIT).await.map_err(|_| AppError::PayloadTooLarge)?;
    let values = form(&body);
    let loaded = state.loaded();
    let mut visitor = Visitor::of(&state, &headers).await?;
    let mut keys = vec![(format!("session:{}", visitor.id), JOIN_FAILURES_PER_VISITOR)];
    if let Some(a) = address {
        keys.push((limits::address_key(a), JOIN_FAILURES_PER_ADDRESS));
    }
    let typed_code = workshop::normalize_code(&field(&values, "code"));
    let typed_name = field(&values, "pseudonyme");
    let refuse = |state: &Shared, visitor: &Visitor, status: StatusCode, errors: Vec<(&str, &str)>| {
        let errors: Vec<Value> = errors.into_iter().map(|(id, message)| context! { id => id, message => message }).collect();
        let ctx = context! { code => typed_code.clone(), pseudonym => typed_name.clone(), errors => errors, ..base(&loaded, routes::JOIN) };
        render(&loaded, "atelier-rejoindre.html", status, ctx).map(|response| with_cookie(response, state, visitor, &headers))
    };
    // The code first: the right one always gets in, whoever shares the
    // address; only wrong ones are counted, and refused over the limits.
    let Some(room) = state.workshops.by_code(&typed_code) else {
        let mut blocked = false;
        for (k, limit) in &keys {
            blocked |= state.join_failures.reached_shared(k, *limit).await;
        }
        if blocked {
            return refuse(
                &state,
                &visitor,
                StatusCode::TOO_MANY_REQUESTS,
                vec![("code", "Trop de codes erronés : attendez une dizaine de minutes avant de réessayer.")],
            );
        }
        for (k, _) in &keys {
            state.join_failures.count_shared(k).await;
        }
        visitor.save(&state).await?;
        return refuse(
            &state,
            &visitor,
            StatusCode::OK,
            vec![("code", "Ce code ne correspond à aucun atelier en cours. Vérifiez-le auprès de la personne qui anime l'atelier.")],
        );
    };
    let pseudonym = match workshop::check_pseudonym(&typed_name) {
        Ok(p) => p,
        Err(message) => return refuse(&state, &visitor, StatusCode::OK, vec![("pseudonyme", message)]),
    };
    leave_current(&state, &mut visitor).await;
    let scenarios = scenarios_of(&loaded, &room);
    let seed = match room.read(|w| w.persona) {
        PersonaMode::Shared(seed) => seed,
        PersonaMode::Individual => new_seed(),
    };
    let t = now();
    for s in &scenarios {
        visitor.session.put(Rehearsal::start(s, seed, t));
    }
    let start = scenarios.first().map(|s| progress(s, &visitor.session.rehearsals[&s.id], t)).unwrap_or_default();
    let Some(learner) = room.join(pseudonym, visitor.id, t, start) else {
        return refuse(&state, &visitor, StatusCode::OK, vec![("code", "Cet atelier est complet.")]);
    };
    let code = room.read(|w| w.code.clone());
    visitor.session.workshop = Some(Seat { code, learner });
    visitor.save(&state).await?;
    let to = match scenarios.as_slice() {
        [only] => routes::in_scenario(&only.id, routes::scenario::STEP),
        _ => routes::ROOM.to_owned(),
    };
    Ok(with_cookie(redirect(&state, &to), &state, &visitor, &headers))
}

/// Leaves the visitor's workshop, if any: their seat and its rehearsals go.
async fn leave_current(state: &Shared, visitor: &mut Visitor) {
    let Some(seat) = visitor.session.workshop.take() else { return };
    if let Some(room) = state.workshops.by_code(&seat.code) {
        let ids = room.read(|w| w.scenarios.clone());
        for id in ids {
            visitor.session.rehearsals.remove(&id);
        }
        room.leave(seat.learner);
    }
}

async fn leave(State(state): State<Shared>, mut visitor: Visitor) -> Answer {
    leave_current(&state, &mut visitor).await;
    visitor.session.notice = Some("Vous avez quitté l'atelier.".into());
    visitor.save(&state).await?;
    Ok(redirect(&state, routes::JOIN))
}

async fn room(State(state): State<Shared>, mut visitor: Visitor) -> Answer {
    let loaded = state.loaded();
    let Some(seat) = visitor.session.workshop.clone() else { return Ok(redirect(&state, routes::JOIN)) };
    let Some(room) = state.workshops.by_code(&seat.code) else {
        visitor.session.workshop = None;
        visitor.session.notice = Some("Cet atelier est terminé.".into());
        visitor.save(&state).await?;
        return Ok(redirect(&state, routes::JOIN));
    };
    let t = now();
    let items: Vec<Value> = scenarios_of(&loaded, &room)
        .iter()
        .map(|s| {
            let r = visitor.session.rehearsals.get(&s.id);
            // The learner's own page: the title as their step shows it.
            let step_title = r.map(|r| {
                let persona = r.persona(s, t);
                let ctx = r.context(crate::rehearsal::Stage { scenario: s, persona: &persona }, t);
                let step = r.current(s);
                step.title.render_plain(&ctx).unwrap_or_else(|_| step.id.clone())
            });
            context! {
                title => s.title.clone(),
                url => routes::in_scenario(&s.id, routes::scenario::STEP),
                finished => r.is_some_and(|r| r.is_finished(s)),
                step_title => step_title,
            }
        })
        .collect();
    let (name, pseudonym) = room.read(|w| (w.name.clone(), w.learner(seat.learner).map(|l| l.pseudonym.clone())));
    let ctx = context! { name => name, pseudonym => pseudonym, scenarios => items, ..base(&loaded, routes::ROOM) };
    render(&loaded, "atelier-salle.html", StatusCode::OK, ctx)
}

// --- Trainers.

fn passphrase_ok(state: &Shared, typed: &str) -> bool {
    match &state.config.trainer_passphrase {
        None => true,
        Some(expected) => {
            // Compared in constant time.
            let (a, b) = (expected.as_bytes(), typed.as_bytes());
            a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        }
    }
}

fn new_form_page(state: &Shared, loaded: &Loaded, status: StatusCode, errors: Vec<Value>, name: &str) -> Answer {
    let scenarios: Vec<Value> = loaded
        .library
        .scenarios
        .values()
        .map(|s| context! { id => s.id.clone(), title => s.title.clone(), operator => s.operator.clone() })
        .collect();
    let ctx = context! {
        scenarios => scenarios,
        needs_passphrase => state.config.trainer_passphrase.is_some(),
        errors => errors,
        name => name,
        ..base(loaded, routes::NEW_WORKSHOP)
    };
    render(loaded, "atelier-nouveau.html", status, ctx)
}

async fn new_form(State(state): State<Shared>) -> Answer {
    let loaded = state.loaded();
    new_form_page(&state, &loaded, StatusCode::OK, Vec::new(), "")
}

async fn open(State(state): State<Shared>, request: Request) -> Answer {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, super::respond::BODY_LIMIT).await.map_err(|_| AppError::PayloadTooLarge)?;
    let loaded = state.loaded();
    let values = form(&body);
    let name = crate::field::strip_controls(&field(&values, "nom"), false).trim().chars().take(80).collect::<String>();
    // Workshops opened and wrong passphrases, counted per address; a router
    // served without the peer's address counts everyone together.
    let key = state.client_address(&parts).map_or_else(|| "address:unknown".to_owned(), limits::address_key);
    if state.openings.reached_shared(&key, OPENINGS_PER_ADDRESS).await {
        let message = "Trop d'ateliers ouverts depuis cette adresse : attendez une dizaine de minutes avant d'en ouvrir un autre.";
        return new_form_page(&state, &loaded, StatusCode::TOO_MANY_REQUESTS, vec![context! { id => "nom", message => message }], &name);
    }
    let chosen: Vec<String> =
        values.iter().filter(|(k, v)| k == "scenarios" && loaded.library.get(v).is_some()).map(|(_, v)| v.clone()).collect();
    let mut errors = Vec::new();
    if !passphrase_ok(&state, &field(&values, "phrase")) {
        // Guesses of the passphrase count too.
        state.openings.count_shared(&key).await;
        errors.push(context! { id => "phrase", message => "La phrase secrète des formateurs est incorrecte." });
    }
    if name.is_empty() {
        errors.push(context! { id => "nom", message => "Donnez un nom à l'atelier." });
    }
    if chosen.is_empty() {
        errors.push(context! { id => "scenario-1", message => "Choisissez au moins une démarche." });
    }
    if !errors.is_empty() {
        return new_form_page(&state, &loaded, StatusCode::OK, errors, &name);
    }
    let persona = if field(&values, "personne") == "chacun" { PersonaMode::Individual } else { PersonaMode::Shared(new_seed()) };
    let Ok((_, token)) = state.workshops.open(name.clone(), chosen, persona, now()) else {
        let message = "Le nombre maximal d'ateliers ouverts en même temps est atteint : réessayez quand un atelier sera clos.";
        return new_form_page(&state, &loaded, StatusCode::SERVICE_UNAVAILABLE, vec![context! { id => "nom", message => message }], &name);
    };
    state.openings.count_shared(&key).await;
    Ok(redirect(&state, &routes::trainer(&token)))
}

async fn closed(State(state): State<Shared>) -> Answer {
    let loaded = state.loaded();
    render(&loaded, "atelier-clos.html", StatusCode::OK, base(&loaded, routes::CLOSED))
}

/// The address learners use to join, for the QR code.
fn join_url(state: &Shared, headers: &HeaderMap, code: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let scheme = if headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https") { "https" } else { "http" };
    format!("{scheme}://{host}{}?code={code}", state.url(routes::JOIN))
}

/// The steps of a workshop's scenarios, in order: (scenario, step, title),
/// titles written for an example persona.
fn steps_of(scenarios: &[Arc<Scenario>]) -> Vec<(String, String, String)> {
    let t = now();
    scenarios
        .iter()
        .flat_map(|s| {
            let example = Rehearsal::start(s, 1, t);
            let persona = example.persona(s, t);
            let ctx = example.context(crate::rehearsal::Stage { scenario: s, persona: &persona }, t);
            s.steps
                .iter()
                .filter(|x| x.kind != StepKind::Incident && !x.id.starts_with('$'))
                .map(|x| (s.id.clone(), x.id.clone(), room_title(x, &ctx, &persona)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What the dashboard shows now: the snapshot, the heat map, and the
/// scenarios' titles by id.
fn dashboard_now(loaded: &Loaded, room: &Room) -> (Snapshot, Vec<HeatCell>, HashMap<String, String>) {
    let scenarios = scenarios_of(loaded, room);
    let steps = steps_of(&scenarios);
    let titles: HashMap<String, String> = scenarios.iter().map(|s| (s.id.clone(), s.title.clone())).collect();
    room.read(|w| (w.snapshot(), w.heat(&steps), titles))
}

/// The dashboard data for its template; each learner has the address that
/// resets them as `reset`.
fn dashboard_data(loaded: &Loaded, room: &Room, token: &str) -> Value {
    let (snapshot, heat, titles) = dashboard_now(loaded, room);
    let learners: Vec<Value> = snapshot
        .learners
        .iter()
        .map(|l| context! { reset => routes::learner_reset_for_template(token, l.id), ..crate::expr::to_value(l) })
        .collect();
    context! {
        snapshot => context! { learners => learners, ..crate::expr::to_value(&snapshot) },
        heat => crate::expr::to_value(&heat),
        titles => crate::expr::to_value(&titles),
        now => now(),
    }
}

/// The same data for the live dashboard, as JSON; each learner's `reset`
/// is the address the browser posts to, under the base path.
fn dashboard_json(state: &Shared, loaded: &Loaded, room: &Room, token: &str, ended: bool) -> String {
    let (mut snapshot, heat, titles) = dashboard_now(loaded, room);
    snapshot.ended = ended;
    let learners: Vec<serde_json::Value> = snapshot
        .learners
        .iter()
        .map(|l| {
            let mut row = serde_json::json!(l);
            row["reset"] = state.url(&routes::learner_reset(token, l.id)).into();
            row
        })
        .collect();
    let mut snapshot = serde_json::json!(snapshot);
    snapshot["learners"] = learners.into();
    serde_json::json!({ "snapshot": snapshot, "heat": heat, "titles": titles, "now": now() }).to_string()
}

async fn dashboard(State(state): State<Shared>, TrainerRoom { room, token }: TrainerRoom, headers: HeaderMap) -> Answer {
    dashboard_page(&state, &room, &token, &headers, None)
}

/// The trainer's dashboard, with what their last action did if any.
fn dashboard_page(state: &Shared, room: &Room, token: &str, headers: &HeaderMap, notice: Option<String>) -> Answer {
    let loaded = state.loaded();
    let (code, name, persona) = room.read(|w| (w.code.clone(), w.name.clone(), w.persona));
    let url = join_url(state, headers, &code);
    let scenarios = scenarios_of(&loaded, room);
    let targets: Vec<Value> = steps_of(&scenarios)
        .into_iter()
        .map(|(s, step, title)| context! { value => format!("{s}:{step}"), label => format!("{} — {title}", loaded.library.get(&s).map(|x| x.title.clone()).unwrap_or_default()) })
        .collect();
    let handouts: Vec<Value> = scenarios
        .iter()
        .map(|s| {
            let seed = match persona {
                PersonaMode::Shared(seed) => format!("?graine={seed}"),
                PersonaMode::Individual => String::new(),
            };
            context! { title => s.title.clone(), url => format!("{}{seed}", routes::in_scenario(&s.id, routes::scenario::HANDOUT)) }
        })
        .collect();
    let base_url = routes::trainer(token);
    let ctx = context! {
        name => name,
        code => code,
        join_url => url.clone(),
        qr => Value::from_safe_string(crate::expr::qr_markup(&url).unwrap_or_default()),
        shared => matches!(persona, PersonaMode::Shared(_)),
        base_url => base_url.clone(),
        trainer => routes::trainer_links(token),
        targets => targets,
        handouts => handouts,
        data => dashboard_data(&loaded, room, token),
        notice => notice,
        ..base(&loaded, &base_url)
    };
    render(&loaded, "atelier-tableau.html", StatusCode::OK, ctx)
}

async fn projection(State(state): State<Shared>, TrainerRoom { room, token }: TrainerRoom, headers: HeaderMap) -> Answer {
    let loaded = state.loaded();
    let (code, name) = room.read(|w| (w.code.clone(), w.name.clone()));
    let url = join_url(&state, &headers, &code);
    let ctx = context! {
        name => name,
        code => code,
        join_url => url.clone(),
        qr => Value::from_safe_string(crate::expr::qr_markup(&url).unwrap_or_default()),
        base_url => routes::trainer(&token),
        ..base(&loaded, routes::JOIN)
    };
    render(&loaded, "atelier-code.html", StatusCode::OK, ctx)
}

/// The live dashboard: one `etat` event per change, with the whole state,
/// then `fin` when the workshop ends; the stream closes on shutdown.
async fn stream(State(state): State<Shared>, TrainerRoom { room, token }: TrainerRoom) -> Response {
    let updates = room.subscribe();
    let shutdown = state.shutdown_signal();
    struct Feed {
        state: Shared,
        room: Arc<Room>,
        token: String,
        updates: tokio::sync::watch::Receiver<u64>,
        shutdown: tokio::sync::watch::Receiver<bool>,
        first: bool,
        over: bool,
    }
    let feed = Feed { state, room, token, updates, shutdown, first: true, over: false };
    let events = futures_util::stream::unfold(feed, |mut f| async move {
        if f.over || *f.shutdown.borrow() {
            return None;
        }
        if !f.first {
            tokio::select! {
                changed = f.updates.changed() => if changed.is_err() { return None; },
                _ = f.shutdown.changed() => return None,
            }
        }
        f.first = false;
        f.updates.borrow_and_update();
        let loaded = f.state.loaded();
        let ended = f.state.workshops.by_token(&f.token).is_none();
        let data = dashboard_json(&f.state, &loaded, &f.room, &f.token, ended);
        let event = Event::default().event(if ended { "fin" } else { "etat" }).data(data);
        f.over = ended;
        Some((Ok::<Event, std::convert::Infallible>(event), f))
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}

/// After an action: back to the dashboard, saying what was done.
fn done(state: &Shared, token: &str) -> Answer {
    Ok(redirect(state, &routes::trainer(token)))
}

/// Changes the rehearsals of one learner, then reports where they are.
async fn change_learner(
    state: &Shared,
    loaded: &Loaded,
    room: &Room,
    learner: u32,
    change: &(dyn Fn(&Scenario, &mut Rehearsal) -> bool + Sync),
) -> Result<bool, StoreError> {
    let Some(session_id) = room.read(|w| w.learner(learner).map(|l| l.session)) else { return Ok(false) };
    let Some(session) = state.store.load(session_id).await? else { return Ok(false) };
    let mut session = Arc::unwrap_or_clone(session);
    let mut all_ok = true;
    let mut last: Option<Progress> = None;
    let mut changed = Vec::new();
    for s in scenarios_of(loaded, room) {
        if let Some(r) = session.rehearsals.get_mut(&s.id) {
            all_ok &= change(&s, r);
            last = Some(progress(&s, r, now()));
            changed.push(s.id.clone());
        }
    }
    // Told on their next page, once.
    session.notice = Some(RESET_NOTICE.to_owned());
    state.store.save(session_id, Arc::new(session)).await?;
    if let Some(p) = last {
        room.restarted(learner, p, &changed);
    }
    Ok(all_ok)
}

/// The `{id}` of a learner's address.
#[derive(serde::Deserialize)]
struct LearnerAt {
    id: u32,
}

async fn reset_one(
    State(state): State<Shared>,
    Path(LearnerAt { id }): Path<LearnerAt>,
    TrainerRoom { room, token }: TrainerRoom,
) -> Answer {
    let loaded = state.loaded();
    change_learner(&state, &loaded, &room, id, &|s, r| {
        r.reset(s, now());
        true
    })
    .await
    .map_err(|e| AppError::store_down(&e))?;
    done(&state, &token)
}

async fn reset_all(State(state): State<Shared>, TrainerRoom { room, token }: TrainerRoom) -> Answer {
    let loaded = state.loaded();
    let ids: Vec<u32> = room.read(|w| w.learners.iter().map(|l| l.id).collect());
    for id in ids {
        change_learner(&state, &loaded, &room, id, &|s, r| {
            r.reset(s, now());
            true
        })
        .await
        .map_err(|e| AppError::store_down(&e))?;
    }
    done(&state, &token)
}

/// Moves everyone to a step, the earlier answers filled from a walkthrough
/// played as each learner's own persona: a persona is never changed to
/// reach a step. The trainer is told who could not be moved, and why.
async fn move_all(State(state): State<Shared>, headers: HeaderMap, posted: Posted<TrainerRoom>) -> Answer {
    let Posted { then: TrainerRoom { room, token }, body } = posted;
    let loaded = state.loaded();
    let values = form(&body);
    let target = field(&values, "etape");
    let Some((scenario_id, step)) = target.rsplit_once(':') else { return done(&state, &token) };
    let Some(s) = loaded.library.get(scenario_id).cloned() else { return done(&state, &token) };
    if !s.steps.iter().any(|x| x.id == step) {
        return done(&state, &token);
    }
    let title = steps_of(std::slice::from_ref(&s)).into_iter().find(|(_, id, _)| id == step).map_or_else(|| step.to_owned(), |(_, _, t)| t);
    let learners: Vec<(u32, String, uuid::Uuid)> =
        room.read(|w| w.learners.iter().map(|l| (l.id, l.pseudonym.clone(), l.session)).collect());
    let (mut moved, mut stayed) = (0, Vec::new());
    for (id, pseudonym, session_id) in learners {
        let mut session = match state.store.load(session_id).await {
            Ok(Some(session)) => Arc::unwrap_or_clone(session),
            Ok(None) => continue,
            Err(e) => return Err(AppError::store_down(&e)),
        };
        let seed = session.rehearsals.get(&s.id).map_or_else(new_seed, |r| r.seed);
        let Some(mut r) = walkthrough::reach(&s, seed, step) else {
            stayed.push(pseudonym);
            continue;
        };
        let t = now();
        r.restart_clock(t);
        let p = progress(&s, &r, t);
        session.put(r);
        session.notice = Some(moved_notice(&title));
        state.store.save(session_id, Arc::new(session)).await.map_err(|e| AppError::store_down(&e))?;
        room.restarted(id, p, std::slice::from_ref(&s.id));
        moved += 1;
    }
    let mut notice = match moved {
        0 => format!("Personne n'a été déplacé vers l'étape « {title} »."),
        1 => format!("1 personne a été déplacée vers l'étape « {title} »."),
        n => format!("{n} personnes ont été déplacées vers l'étape « {title} »."),
    };
    if !stayed.is_empty() {
        notice.push_str(&format!(
            " Restent où elles étaient, car le parcours de leur personne ne passe pas par cette étape (par exemple selon sa situation familiale) : {}.",
            stayed.join(", ")
        ));
    }
    // The room as it is now: ended meanwhile, there is no dashboard.
    let room = state.workshops.by_token(&token).ok_or(AppError::NotFound)?;
    dashboard_page(&state, &room, &token, &headers, Some(notice))
}

async fn confirm_end(State(state): State<Shared>, TrainerRoom { room, token }: TrainerRoom) -> Answer {
    let loaded = state.loaded();
    let name = room.read(|w| w.name.clone());
    let ctx = context! { name => name, base_url => routes::trainer(&token), trainer => routes::trainer_links(&token), ..base(&loaded, routes::JOIN) };
    render(&loaded, "atelier-clore.html", StatusCode::OK, ctx)
}

/// Ends the workshop: every learner's rehearsals of it are deleted.
async fn end(State(state): State<Shared>, Path(token): Path<String>) -> Answer {
    let Some(room) = state.workshops.by_token(&token) else { return Ok(redirect(&state, routes::CLOSED)) };
    let scenarios = room.read(|w| w.scenarios.clone());
    // The learners' sessions first: with the store away, the workshop goes
    // on rather than end with its rehearsals left behind.
    let mut sessions = HashMap::new();
    for session_id in room.read(|w| w.learners.iter().map(|l| l.session).collect::<Vec<_>>()) {
        match state.store.load(session_id).await {
            Ok(Some(session)) => drop(sessions.insert(session_id, session)),
            Ok(None) => {}
            Err(e) => return Err(AppError::store_down(&e)),
        }
    }
    let Some(learners) = state.workshops.end(&token) else { return Ok(redirect(&state, routes::CLOSED)) };
    for l in learners {
        if let Some(session) = sessions.remove(&l.session) {
            let mut session = Arc::unwrap_or_clone(session);
            for id in &scenarios {
                session.rehearsals.remove(id);
            }
            session.workshop = None;
            session.notice = Some("L'atelier est terminé : ses entraînements ont été effacés.".into());
            if let Err(e) = state.store.save(l.session, Arc::new(session)).await {
                tracing::warn!(error = %e, "an ended workshop's rehearsals not deleted");
            }
        }
    }
    Ok(redirect(&state, routes::CLOSED))
}
