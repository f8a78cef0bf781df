//! Visits every page of every bundled scenario in the browser, and checks
//! each one: every walkthrough is played (the walkthrough's script says
//! what to type, from the rehearsal read in the session store, as
//! `tests/common/walk.rs` does over HTTP), plus the error state of each
//! form of the happy path, the review's "Modifier", the receipt's
//! document, the persona card, the inbox and its messages, the
//! confirmation pages, the site's own pages, and the session-expired page.

use crate::checks::Checker;
use crate::harness::{Page, Server};
use fantoccini::{Client, Locator};
use miroir::testing::rehearsal::{LIST_ACTION, Rehearsal, Stage};
use miroir::testing::scenario::{Scenario, StepKind};
use miroir::testing::walkthrough::{self, Move, Next, Script};
use miroir::testing::web::clock::now;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Pages outside any scenario, checked first: a label and a path. (The
/// workshop, handout and author pages need a workshop or a scenario: see
/// [`workshop_and_author_pages`].)
pub const SITE_PAGES: &[(&str, &str)] = &[
    ("catalogue", "/"),
    ("accessibility statement", "/accessibilite"),
    ("page not found (404)", "/page-qui-n-existe-pas"),
    ("method not allowed (405)", "/indices"),
];

/// Pages of a scenario checked once its happy path is over, after the
/// scenario's URL. Messages and the document are added when there are.
pub const AFTER_HAPPY_PATH: &[(&str, &str)] = &[("persona card", "/fiche"), ("inbox", "/messagerie")];

/// Confirmation pages, checked, then confirmed: the page that follows
/// shows a notice. Last, since they start the rehearsal again.
pub const CONFIRMATIONS: &[(&str, &str)] = &[("start again", "/recommencer"), ("a new persona", "/nouvelle-personne")];

/// The scenario whose pages are saved as the README's screenshots (with
/// `MIROIR_SCREENSHOTS`), and the step shown.
const SCREENSHOT_SCENARIO: &str = "impots/declaration-revenus";
const SCREENSHOT_STEP: &str = "informations";

/// Types the walkthrough's values over the form `#formulaire`, as a person
/// would leave it: text typed, boxes ticked, an option chosen. File inputs
/// are listed back, to be given a file through WebDriver.
const FILL: &str = r#"
const [pairs] = arguments;
const form = document.getElementById('formulaire');
if (!form) return { missing: ['(no form #formulaire)'], files: [] };
const want = new Map();
for (const [k, v] of pairs) { if (!want.has(k)) want.set(k, []); want.get(k).push(v); }
const seen = new Set(), files = [];
for (const el of form.elements) {
  if (!el.name || el.type === 'hidden' || el.type === 'submit' || el.type === 'button') continue;
  seen.add(el.name);
  const values = want.get(el.name) || [];
  if (el.type === 'checkbox' || el.type === 'radio') el.checked = values.includes(el.value);
  else if (el.type === 'file') { if (values.length && values[0]) files.push([el.id, values[0]]); }
  else el.value = values.length ? values[0] : '';
}
return { missing: [...want.keys()].filter(k => !seen.has(k)), files };
"#;

/// The session cookie's name.
const COOKIE: &str = "miroir";

/// The session the browser's cookie names.
pub async fn browser_session(c: &Client) -> uuid::Uuid {
    let cookie = c.get_named_cookie(COOKIE).await.expect("the browser has a session cookie");
    uuid::Uuid::parse_str(cookie.value()).expect("a session id in the cookie")
}

async fn rehearsal(server: &Server, sid: uuid::Uuid, s: &Scenario) -> Rehearsal {
    let session = server.state.store.load(sid).await.unwrap().expect("the browser's session");
    session.rehearsals.get(&s.id).cloned().expect("a rehearsal of the scenario")
}

async fn change(server: &Server, sid: uuid::Uuid, s: &Scenario, f: impl FnOnce(&mut Rehearsal)) {
    let store = &server.state.store;
    let mut session = std::sync::Arc::unwrap_or_clone(store.load(sid).await.unwrap().expect("the browser's session"));
    f(session.rehearsals.get_mut(&s.id).expect("a rehearsal of the scenario"));
    store.save(sid, session.into()).await.unwrap();
}

/// Fills `#formulaire` with `form` (see [`FILL`]).
async fn fill(c: &Client, form: &[(String, String)], files_dir: &std::path::Path, what: &str) {
    let result = c.js(FILL, vec![json!(form)]).await;
    let missing: Vec<&str> = result["missing"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    assert!(missing.is_empty(), "{what}: the walkthrough answers {missing:?}, which the page does not show");
    for pair in result["files"].as_array().into_iter().flatten() {
        let (id, name) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        // Only the file's name is sent (urlencoded form): an empty file will do.
        let file = files_dir.join(name);
        std::fs::write(&file, b"").unwrap();
        let input = c.find(Locator::Id(id)).await.unwrap();
        input.send_keys(&file.display().to_string()).await.unwrap();
    }
}

/// Whether the focus is on the error summary.
pub async fn focus_on_error_summary(c: &Client) -> bool {
    c.js("return document.activeElement !== null && document.activeElement.matches('.error-summary');", vec![]).await == json!(true)
}

/// Every page of scenario `s`.
pub async fn scenario(ch: &mut Checker, server: &Server, s: &Scenario) {
    for index in 0..s.tests.len() {
        walk(ch, server, s, index).await;
    }
}

/// Plays walkthrough `index` of `s` in the browser, checking each page.
/// The first walkthrough is the happy path: there, each form is first sent
/// empty (the error state), the review's first "Modifier" is followed, the
/// aidant hints are hidden once, and the pages after the end are visited.
async fn walk(ch: &mut Checker, server: &Server, s: &Scenario, index: usize) {
    let c = ch.client.clone();
    let test = &s.tests[index];
    let happy = index == 0;
    let name = format!("{} · {}", s.id, test.name);
    let base_path = format!("/scenarios/{}", s.id);
    let base = server.url(&base_path);
    let files_dir = crate::harness::temp_dir("uploads");

    c.open(&base).await;
    let start = format!("form[action='{base_path}/commencer'] [type=submit]");
    if c.has(&start).await {
        ch.check(&format!("{}: scenario page", s.id)).await;
        c.click_to(&start).await;
    } else {
        ch.check(&format!("{}: scenario page, rehearsal under way", s.id)).await;
    }
    // Play the walkthrough's persona: its seed and traits.
    let sid = browser_session(&c).await;
    change(server, sid, s, |r| *r = walkthrough::start(s, index, now())).await;
    c.open(&format!("{base}/etape")).await;

    let mut script = Script::new(s, test);
    let mut emptied = BTreeSet::new();
    let mut hints_toggled = false;
    let mut modified = false;
    for _ in 0..300 {
        let r = rehearsal(server, sid, s).await;
        let step = r.current(s);
        let refused = if c.has(".error-summary").await { ", refused" } else { "" };
        ch.check(&format!("{name}: step `{}`{refused}", step.id)).await;
        if happy && refused.is_empty() {
            ch.phone_fold(&format!("{name}: step `{}`", step.id)).await;
        }
        if s.id == SCREENSHOT_SCENARIO && happy && step.id == SCREENSHOT_STEP && refused.is_empty() {
            ch.screenshot("etape").await;
        }
        if happy && !hints_toggled && c.has(".toolbar form[action='/indices']").await {
            hints_toggled = true;
            let toggle = ".toolbar form[action='/indices'] [type=submit]";
            // On a wide screen the fold's content shows without opening it
            // (::details-content), but WebDriver counts what a closed
            // <details> holds as hidden: open it first, as a phone user would.
            let unfold = "document.querySelectorAll('.toolbar-more').forEach(d => d.open = true);";
            c.js(unfold, vec![]).await;
            c.click_to(toggle).await;
            ch.check(&format!("{name}: step `{}`, aidant hints hidden", step.id)).await;
            c.js(unfold, vec![]).await;
            c.click_to(toggle).await;
            if r.inbox.is_empty() {
                c.open(&format!("{base}/messagerie")).await;
                ch.check(&format!("{}: inbox, empty", s.id)).await;
                c.open(&format!("{base}/etape")).await;
            }
        }
        let persona = r.persona(s, now());
        let next = script.next(&r, &persona, now()).unwrap_or_else(|f| panic!("{name}: {}", f.message));
        let moves = match next {
            Next::Done => {
                script.check_end(&r, &persona, now()).unwrap_or_else(|f| panic!("{name}: {}", f.message));
                if happy {
                    after_happy_path(ch, server, s, sid).await;
                }
                let _ = std::fs::remove_dir_all(&files_dir);
                return;
            }
            Next::Moves(moves) => moves,
        };
        for m in moves {
            match m {
                Move::Wait(minutes) => change(server, sid, s, |r| r.wait(minutes)).await,
                Move::FollowLink(i) => {
                    c.open(&format!("{base}/messagerie/{i}")).await;
                    ch.check(&format!("{name}: message {i}")).await;
                    c.click_to(&format!("form[action='{base_path}/messagerie/{i}/lien'] [type=submit]")).await;
                }
                Move::Act(key) => c.click_to(&format!("button[name='_action'][value='{key}']")).await,
                Move::Submit(form) => {
                    // A list's step (`repeat:`): its buttons say what to do
                    // with the list ("ajouter", "enregistrer", "continuer"...).
                    let list = form.iter().find(|(k, _)| k == LIST_ACTION).map(|(_, v)| v.clone());
                    let form: Vec<_> = form.into_iter().filter(|(k, _)| k != LIST_ACTION).collect();
                    if happy && step.kind == StepKind::Review && !modified {
                        modified = true;
                        modify_from_review(ch, server, sid, s, &name).await;
                    }
                    if list.is_none() && happy && emptied.insert(step.id.clone()) && may_refuse(s, &r, &persona) {
                        fill(&c, &[], &files_dir, &name).await;
                        c.click_to("#formulaire [type=submit]").await;
                        let what = format!("{name}: step `{}`, sent empty", step.id);
                        if !c.has(".error-summary").await {
                            ch.problems.push(format!("{what}: the empty form was accepted, no error summary"));
                        } else if !focus_on_error_summary(&c).await {
                            ch.problems.push(format!("{what}: the focus is not on the error summary"));
                        }
                        ch.check(&what).await;
                    }
                    fill(&c, &form, &files_dir, &format!("{name}, step `{}`", step.id)).await;
                    match list {
                        Some(action) => c.click_to(&format!("#formulaire button[name='{LIST_ACTION}'][value='{action}']")).await,
                        None => c.click_to("#formulaire [type=submit]").await,
                    }
                }
            }
        }
    }
    panic!("{name}: the walk goes round in circles");
}

/// Whether sending the current step empty shows its errors without using
/// up its last attempt: it has a required field, and room for one more
/// failure.
fn may_refuse(s: &Scenario, r: &Rehearsal, persona: &miroir::testing::persona::Persona) -> bool {
    let step = r.current(s);
    let index = s.step_index(&step.id).unwrap() as u16;
    let failures = r.failures.get(&index).copied().unwrap_or(0);
    let room = step.on_failure.as_ref().is_none_or(|f| failures + 1 < f.after);
    let view = r.view(Stage { scenario: s, persona }, now(), None).unwrap();
    room && view.fields.iter().any(|f| f.required)
}

/// From the review: "Modifier" on the first block, the page it opens,
/// then "Annuler la modification", back to the review.
async fn modify_from_review(ch: &mut Checker, server: &Server, sid: uuid::Uuid, s: &Scenario, name: &str) {
    let c = ch.client.clone();
    let modify = "form[action*='/modifier/'] [type=submit]";
    if !c.has(modify).await {
        return;
    }
    let review = rehearsal(server, sid, s).await.current(s).id.clone();
    c.click_to(modify).await;
    let editing = rehearsal(server, sid, s).await.current(s).id.clone();
    ch.check(&format!("{name}: step `{editing}`, changed from the review")).await;
    c.click_to("form.back-form [type=submit]").await;
    let back = rehearsal(server, sid, s).await.current(s).id.clone();
    assert_eq!(back, review, "{name}: « Annuler la modification » did not lead back to the review");
}

/// The pages of a finished happy path: the document, the persona card,
/// the inbox and each message, the confirmation pages.
async fn after_happy_path(ch: &mut Checker, server: &Server, s: &Scenario, sid: uuid::Uuid) {
    let c = ch.client.clone();
    let base_path = format!("/scenarios/{}", s.id);
    let document = format!("a[href='{base_path}/document']");
    if c.has(&document).await {
        c.click_to(&document).await;
        ch.check(&format!("{}: printable document", s.id)).await;
        // A receipt ("accusé", "récapitulatif") is one A4 sheet; an avis or
        // an attestation may take two, as the real ones do.
        let template = s.steps.iter().find_map(|x| x.document.as_ref()).map(|d| d.template.clone()).unwrap_or_default();
        let receipt = template.contains("accuse") || template.contains("recapitulatif");
        ch.printable(&format!("{}: printable document", s.id), if receipt { 1 } else { 2 }).await;
    }
    for (label, suffix) in AFTER_HAPPY_PATH {
        c.open(&server.url(&format!("{base_path}{suffix}"))).await;
        ch.check(&format!("{}: {label}", s.id)).await;
        if s.id == SCREENSHOT_SCENARIO {
            match *suffix {
                "/fiche" => ch.screenshot("fiche").await,
                "/messagerie" => ch.screenshot("messagerie").await,
                _ => {}
            }
        }
    }
    // "Faire passer le temps", from the inbox.
    c.click_to(&format!("form[action='{base_path}/horloge'] [type=submit]")).await;
    ch.check(&format!("{}: inbox, after letting time pass", s.id)).await;
    let messages = rehearsal(server, sid, s).await.inbox.len();
    for i in 0..messages {
        c.open(&server.url(&format!("{base_path}/messagerie/{i}"))).await;
        ch.check(&format!("{}: message {i}", s.id)).await;
    }
    for (label, suffix) in CONFIRMATIONS {
        c.open(&server.url(&format!("{base_path}{suffix}"))).await;
        ch.check(&format!("{}: confirm {label}", s.id)).await;
        c.click_to(&format!("form[action='{base_path}{suffix}'] [type=submit]")).await;
        ch.check(&format!("{}: after {label}", s.id)).await;
    }
}

/// The site's own pages (see [`SITE_PAGES`]).
pub async fn site_pages(ch: &mut Checker, server: &Server, when: &str) {
    for (label, path) in SITE_PAGES {
        ch.client.open(&server.url(path)).await;
        ch.check(&format!("{label}{when}")).await;
    }
}

/// The page shown when the cookie names a session the server does not
/// know (expired, or the server restarted), on a step's address. The
/// browser's session is forgotten by the server: do this last.
pub async fn session_expired(ch: &mut Checker, server: &Server, s: &Scenario) {
    let c = ch.client.clone();
    let sid = browser_session(&c).await;
    server.state.store.remove(sid).await.unwrap();
    let first = &s.steps[s.start].id;
    c.open(&server.url(&format!("/scenarios/{}/etape/{first}", s.id))).await;
    assert!(c.has("form[action$='/commencer']").await, "{}: a step with an unknown session did not show the session-expired page", s.id);
    ch.check(&format!("{}: session expired", s.id)).await;
}

/// Sets the value of the input `css` by script, as typing would.
async fn type_into(c: &Client, css: &str, value: &str) {
    let found = c
        .js(
            "const el = document.querySelector(arguments[0]); if (!el) return false; el.value = arguments[1]; return true;",
            vec![json!(css), json!(value)],
        )
        .await;
    assert_eq!(found, json!(true), "no `{css}` to type into");
}

/// The workshop pages, trainer's and learner's, the handouts, and the
/// author pages, around scenario `s`.
pub async fn workshop_and_author_pages(ch: &mut Checker, server: &Server, s: &Scenario) {
    let c = ch.client.clone();
    for (label, path) in [
        ("step-by-step handout", format!("/scenarios/{}/fiche-pas-a-pas", s.id)),
        ("printable persona card", format!("/scenarios/{}/fiche-personnage?graine=7", s.id)),
        ("author index", "/auteur".to_owned()),
        ("author page with its flow diagram", format!("/auteur/scenarios/{}", s.id)),
    ] {
        c.open(&server.url(&path)).await;
        ch.check(&format!("{}: {label}", s.id)).await;
        match label {
            "step-by-step handout" => ch.printable(&format!("{}: {label}", s.id), 20).await,
            "printable persona card" => ch.printable(&format!("{}: {label}", s.id), 1).await,
            _ => {}
        }
    }

    // A trainer opens a workshop: the form, refused empty, then filled.
    c.open(&server.url("/atelier/nouveau")).await;
    ch.check("workshop: the form to open one").await;
    c.click_to("form[action='/atelier/nouveau'] [type=submit]").await;
    assert!(focus_on_error_summary(&c).await, "workshop: a refused form must focus its error summary");
    ch.check("workshop: the form refused").await;
    type_into(&c, "#nom", "Atelier du mardi").await;
    let ticked = c
        .js(
            "const box = document.querySelector(`input[name='scenarios'][value='${arguments[0]}']`); if (!box) return false; box.checked = true; return true;",
            vec![json!(s.id)],
        )
        .await;
    assert_eq!(ticked, json!(true), "workshop: no box for {}", s.id);
    c.click_to("form[action='/atelier/nouveau'] [type=submit]").await;
    let dashboard = c.js("return location.pathname;", vec![]).await.as_str().unwrap_or_default().to_owned();
    assert!(dashboard.starts_with("/atelier/animation/"), "workshop: not on the dashboard: {dashboard}");
    ch.check("workshop: the trainer's dashboard, empty").await;
    let code = c.js("return document.querySelector('.join-code').textContent.trim();", vec![]).await;
    let code = code.as_str().expect("a join code").to_owned();
    for (label, suffix) in [("the code to project", "/code"), ("persona cards, none yet", "/fiches")] {
        c.open(&server.url(&format!("{dashboard}{suffix}"))).await;
        ch.check(&format!("workshop: {label}")).await;
    }

    // A learner joins: a wrong code first.
    c.open(&server.url("/atelier")).await;
    ch.check("workshop: the form to join").await;
    type_into(&c, "#code", "ZZZZZZ").await;
    type_into(&c, "#pseudonyme", "Ali").await;
    c.click_to("form[action='/atelier/rejoindre'] [type=submit]").await;
    assert!(focus_on_error_summary(&c).await, "workshop: a wrong code must focus the error summary");
    ch.check("workshop: a wrong code").await;
    type_into(&c, "#code", &code).await;
    c.click_to("form[action='/atelier/rejoindre'] [type=submit]").await;
    ch.check("workshop: the learner's first step").await;
    c.open(&server.url("/atelier/salle")).await;
    ch.check("workshop: the learner's room").await;

    // The trainer again, with a learner in the room.
    c.open(&server.url(&dashboard)).await;
    ch.check("workshop: the dashboard with a learner").await;
    c.open(&server.url(&format!("{dashboard}/fiches"))).await;
    ch.check("workshop: a learner's persona card").await;
    ch.printable("workshop: a learner's persona card", 1).await;
    c.open(&server.url(&format!("{dashboard}/clore"))).await;
    ch.check("workshop: confirm the end").await;
    c.click_to(&format!("form[action='{dashboard}/clore'] [type=submit]")).await;
    ch.check("workshop: ended").await;
}
