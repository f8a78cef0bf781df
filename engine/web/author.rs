//! Author pages: what a scenario looks like as a graph, the persona of a
//! seed, the problems of its files, and "commencer ici" links that start a
//! rehearsal at any step with the earlier answers filled from a walkthrough.
//! Diagnostics show here only, never on a learner's page.

use super::error::{Answer, AppError};
use super::extract::Scene;
use super::respond::{base_page as base, new_seed, now, redirect, render_base as render, seed_of, with_cookie};
use super::routes;
use super::visitor::Visitor;
use super::{Loaded, Shared, flow};
use crate::scenario::Scenario;
use crate::walkthrough::{self, As, Move};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use minijinja::context;
use minijinja::value::Value;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

pub(super) fn routes() -> Router<Shared> {
    Router::new()
        .route(routes::AUTHOR, get(index))
        .route(routes::AUTHOR_SCENARIO, get(scenario))
        .route(routes::AUTHOR_START, post(start_here))
}

/// The files a scenario is made of.
fn files_of(s: &Scenario) -> BTreeSet<String> {
    let mut files: BTreeSet<String> = s.steps.iter().map(|x| x.origin.file.clone()).collect();
    files.insert(s.file.clone());
    files
}

/// Diagnostics as text, with their source lines, for the given files.
fn problems(loaded: &Loaded, files: Option<&BTreeSet<String>>) -> Vec<Value> {
    loaded
        .library
        .diagnostics
        .iter()
        .filter(|d| files.is_none_or(|f| f.contains(&d.file)))
        .map(|d| context! { file => d.file.clone(), text => d.render(loaded.library.sources.get(&d.file).map(String::as_str)) })
        .collect()
}

async fn index(State(state): State<Shared>) -> Answer {
    let loaded = state.loaded();
    let scenarios: Vec<Value> = loaded
        .library
        .scenarios
        .values()
        .map(|s| {
            let files = files_of(s);
            let errors = loaded.library.diagnostics.iter().filter(|d| d.is_error() && files.contains(&d.file)).count();
            context! {
                id => s.id.clone(),
                title => s.title.clone(),
                url => routes::author_scenario(&s.id),
                steps => s.steps.len(),
                walkthroughs => s.tests.len(),
                kept => loaded.library.kept.contains(&s.id),
                errors => errors,
            }
        })
        .collect();
    let ctx = context! {
        scenarios => scenarios,
        problems => problems(&loaded, None),
        broken => loaded.library.broken_files().into_iter().map(str::to_owned).collect::<Vec<_>>(),
        ..base(&loaded, routes::AUTHOR)
    };
    render(&loaded, "auteur.html", StatusCode::OK, ctx)
}

/// The persona as `(path, value)` lines, nested values flattened.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| flatten(&join(prefix, k), x, out)),
        serde_json::Value::Array(a) if !a.is_empty() => {
            a.iter().enumerate().for_each(|(i, x)| flatten(&join(prefix, &i.to_string()), x, out))
        }
        serde_json::Value::Array(_) => out.push((prefix.to_owned(), "(aucun)".into())),
        serde_json::Value::Null => out.push((prefix.to_owned(), "(aucun)".into())),
        serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") }
}

/// Steps that some walkthrough reaches: where "commencer ici" can start.
fn reached(s: &Scenario) -> BTreeSet<String> {
    let mut seen = BTreeSet::from([s.steps[s.start].id.clone()]);
    for i in 0..s.tests.len() {
        let end = walkthrough::observe(s, i, As::Itself, &mut |r, _, _, m: &Move| {
            seen.insert(r.current(s).id.clone());
            let _ = m;
        });
        if let Ok(r) = end {
            seen.insert(r.current(s).id.clone());
        }
    }
    seen
}

async fn scenario(Scene { loaded, s }: Scene, Query(q): Query<HashMap<String, String>>) -> Answer {
    let seed = seed_of(&q).unwrap_or(1);
    let persona = s.persona_of(seed, None);
    let mut lines = Vec::new();
    flatten("", &serde_json::Value::Object(persona.values.clone()), &mut lines);
    let example = crate::rehearsal::Rehearsal::start(&s, seed, now());
    let ctx_example = example.context(crate::rehearsal::Stage { scenario: &s, persona: &persona }, now());
    let titles: Vec<String> = s.steps.iter().map(|x| x.title.render_plain(&ctx_example).unwrap_or_else(|_| x.id.clone())).collect();
    let reachable = crate::scenario::graph::reachable(&s.steps, s.start);
    let startable = reached(&s);
    let edges = flow::edges(&s);
    let steps: Vec<Value> = s
        .steps
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let exits: Vec<String> = edges
                .iter()
                .filter(|e| e.from == i)
                .map(|e| if e.label.is_empty() { s.steps[e.to].id.clone() } else { format!("{} ({})", s.steps[e.to].id, e.label) })
                .collect();
            context! {
                id => x.id.clone(),
                title => titles[i].clone(),
                kind => flow::kind_label(x.kind),
                exits => exits,
                reachable => reachable[i],
                startable => startable.contains(&x.id),
                file => x.origin.file.clone(),
                line => x.origin.pos.line,
            }
        })
        .collect();
    let ctx = context! {
        scenario => context! {
            id => s.id.clone(),
            title => s.title.clone(),
            url => routes::scenario(&s.id),
            file => s.file.clone(),
            checked_on => s.checked_on(),
            sources => s.sources.clone(),
            real_site => s.real_site.clone(),
        },
        diagram => Value::from_safe_string(flow::svg(&s, &titles)),
        steps => steps,
        seed => seed,
        persona => lines.into_iter().map(|(k, v)| context! { path => k, value => v }).collect::<Vec<_>>(),
        problems => problems(&loaded, Some(&files_of(&s))),
        kept => loaded.library.kept.contains(&s.id),
        start_base => routes::author_start_base(&s.id),
        ..base(&loaded, routes::AUTHOR)
    };
    render(&loaded, "auteur-scenario.html", StatusCode::OK, ctx)
}

/// "Commencer ici": a rehearsal at `step`, the earlier answers filled from
/// a walkthrough.
/// The `{step}` of a "commencer ici" address.
#[derive(Deserialize)]
struct StepAt {
    step: String,
}

async fn start_here(
    State(state): State<Shared>,
    Path(StepAt { step }): Path<StepAt>,
    Scene { s, .. }: Scene,
    headers: HeaderMap,
    mut visitor: Visitor,
) -> Answer {
    let mut r = walkthrough::reach_with_traits(&s, new_seed(), &step).ok_or(AppError::NotFound)?;
    r.restart_clock(now());
    let to = routes::step(&s.id, &r.current(&s).id);
    visitor.session.put(r);
    visitor.save(&state).await?;
    Ok(with_cookie(redirect(&state, &to), &state, &visitor, &headers))
}
