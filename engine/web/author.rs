//! Author pages: what a scenario looks like as a graph, the persona of a
//! seed, the problems of its files, and "commencer ici" links that start a
//! rehearsal at any step with the earlier answers filled from a walkthrough.
//! Diagnostics show here only, never on a learner's page.

use super::pages::{base_page as base, error_page, find, new_seed, now, render_base as render, seed_of};
use super::visitor::{saved_or_return, visitor_or_return};
use super::{Loaded, Shared, flow};
use crate::scenario::Scenario;
use crate::walkthrough::{self, As, Move};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Value;
use std::collections::{BTreeSet, HashMap};

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

pub async fn index(State(state): State<Shared>) -> Response {
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
                url => format!("/auteur/scenarios/{}", s.id),
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
        ..base(&loaded, "/auteur")
    };
    render(&state, &loaded, "auteur.html", StatusCode::OK, ctx)
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

pub async fn scenario(
    State(state): State<Shared>,
    Path((op, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let loaded = state.loaded();
    let Some(s) = find(&loaded, &op, &name) else { return error_page(&state, StatusCode::NOT_FOUND) };
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
            url => format!("/scenarios/{}", s.id),
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
        start_base => format!("/auteur/scenarios/{}/commencer", s.id),
        ..base(&loaded, "/auteur")
    };
    render(&state, &loaded, "auteur-scenario.html", StatusCode::OK, ctx)
}

/// "Commencer ici": a rehearsal at `step`, the earlier answers filled from
/// a walkthrough.
pub async fn start_here(
    State(state): State<Shared>,
    Path((op, name, step)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.loaded();
    let Some(s) = find(&loaded, &op, &name) else { return error_page(&state, StatusCode::NOT_FOUND) };
    let mut visitor = visitor_or_return!(&state, &headers);
    let Some(mut r) = walkthrough::reach_with_traits(&s, new_seed(), &step) else {
        return error_page(&state, StatusCode::NOT_FOUND);
    };
    r.restart_clock(now());
    let to = format!("/scenarios/{}/etape/{}", s.id, r.current(&s).id);
    visitor.session.put(r);
    saved_or_return!(&state, visitor);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(c) = visitor.set_cookie(&state, &headers) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}
