//! Printable pages: a scenario's step-by-step handout, a persona card for a
//! seed, and a workshop's persona cards, one per learner.

use super::Shared;
use super::error::{Answer, AppError};
use super::extract::{Scene, TrainerRoom};
use super::respond::{base_page as base, now, render_base as render, scenarios_of, seed_of, today};
use super::routes::{self, SCENARIO, TRAINER, scenario as at, trainer};
use crate::rehearsal::view::card as persona_card;
use crate::{handout, walkthrough};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use minijinja::context;
use std::collections::HashMap;

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(&routes::nested(SCENARIO, at::HANDOUT), get(handout))
        .route(&routes::nested(SCENARIO, at::PERSONA_CARD), get(card_for_seed))
        .route(&routes::nested(TRAINER, trainer::CARDS), get(cards))
}

/// One printable persona card per learner.
async fn cards(State(state): State<Shared>, TrainerRoom { token, room }: TrainerRoom) -> Answer {
    let loaded = state.loaded();
    let scenarios = scenarios_of(&loaded, &room);
    let learners: Vec<(String, uuid::Uuid)> = room.read(|w| w.learners.iter().map(|l| (l.pseudonym.clone(), l.session)).collect());
    let mut items = Vec::new();
    for (pseudonym, session_id) in learners {
        let session = match state.store.load(session_id).await {
            Ok(Some(session)) => session,
            Ok(None) => continue,
            Err(e) => return Err(AppError::store_down(&e)),
        };
        let Some((s, r)) = scenarios.iter().find_map(|s| session.rehearsals.get(&s.id).map(|r| (s, r))) else { continue };
        let persona = r.persona(s, now());
        items.push(
            context! { heading => pseudonym, scenario => s.title.clone(), card => crate::expr::to_value(&persona_card(s, &persona)) },
        );
    }
    let name = room.read(|w| w.name.clone());
    let ctx = context! { title => format!("Fiches personnage — {name}"), cards => items, back_url => routes::trainer(&token), ..base(&loaded, routes::JOIN) };
    render(&loaded, "fiches.html", StatusCode::OK, ctx)
}

/// A printable persona card for a given seed (default: the first walkthrough's).
async fn card_for_seed(Scene { loaded, s }: Scene, Query(q): Query<HashMap<String, String>>) -> Answer {
    let persona = match seed_of(&q) {
        Some(seed) => s.persona_on(seed, None, today()),
        None if !s.tests.is_empty() => std::sync::Arc::new(walkthrough::persona(&s, &s.tests[0]).on(today())),
        None => s.persona_on(1, None, today()),
    };
    let items = vec![
        context! { heading => persona.text("prenom"), scenario => s.title.clone(), card => crate::expr::to_value(&persona_card(&s, &persona)) },
    ];
    let ctx = context! { title => format!("Fiche personnage — {}", s.title), cards => items, back_url => routes::scenario(&s.id), ..base(&loaded, routes::HOME) };
    render(&loaded, "fiches.html", StatusCode::OK, ctx)
}

/// The printable step-by-step handout of a scenario.
async fn handout(Scene { loaded, s }: Scene, Query(q): Query<HashMap<String, String>>) -> Answer {
    let played = handout::for_seed(&s, seed_of(&q));
    let (steps, persona) = match played {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(scenario = %s.id, error = %e.message, "handout failed");
            return Err(AppError::Internal);
        }
    };
    let ctx = context! {
        scenario => context! { title => s.title.clone(), summary => s.summary.clone(), url => routes::scenario(&s.id), valid_as_of => s.valid_as_of.clone(), checked_on => s.checked_on() },
        steps => crate::expr::to_value(&steps),
        // The card as the learner sees it today: the same person, perhaps a year older.
        card => crate::expr::to_value(&persona_card(&s, &persona.on(today()))),
        ..base(&loaded, routes::HOME)
    };
    render(&loaded, "fiche-pas-a-pas.html", StatusCode::OK, ctx)
}
