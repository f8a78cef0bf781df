//! Step actions: the look-alike FranceConnect button and links such as
//! "Mot de passe oublié ?", which leave a page without sending its form.
//! Checked where written (located errors), taken by the engine (nothing of
//! the form kept, "Précédent" back, the review silent about them), shown
//! and posted over HTTP, and named in walkthroughs as `_action`.

mod common;

use axum::http::StatusCode;
use common::{Client, walk::walk_over_http};
use miroir::testing::files::FileSet;
use miroir::testing::library::{self, Library};
use miroir::testing::persona;
use miroir::testing::rehearsal::{Outcome, Rehearsal, Stage};

const GROUP: &str = r#"
title: Connexion avec FranceConnect
entry: fc-choix
steps:
  - id: fc-choix
    kind: info
    title: Je choisis un compte pour me connecter
    next: $return
"#;

const SCENARIO: &str = r#"
title: Demander une attestation
operator: demo
summary: Une connexion avec FranceConnect ou un mot de passe, une demande, un récapitulatif.
level: debutant
duration_minutes: 5
valid_as_of: 2026-04
includes:
  - group: demo/fc
    then: demande
steps:
  - id: connexion
    kind: login
    title: Connexion
    fields:
      - { name: identifiant, label: Adresse électronique, type: email, expect: persona.email }
      - { name: mot_de_passe, label: Mot de passe, type: password, expect: persona.mot_de_passe }
    on_failure: { after: 3, goto: bloque }
    actions:
      - { franceconnect: true, goto: fc-choix }
      - { label: "Mot de passe oublié ?", goto: oubli }
    next: demande
  - id: oubli
    kind: info
    title: Mot de passe oublié
    next: connexion
  - id: demande
    kind: form
    title: Votre demande
    fields:
      - { name: motif, label: Motif, type: text }
    actions:
      - { label: "Je n'ai pas de motif", goto: sans-motif }
    next: recapitulatif
  - id: sans-motif
    kind: form
    title: Sans motif
    fields:
      - { name: precision, label: Précision, type: text }
    next: recapitulatif
  - id: recapitulatif
    kind: review
    title: Vérifiez votre demande
    next: fin
  - id: fin
    kind: receipt
    title: Demande envoyée
  - id: bloque
    kind: incident
    title: Compte bloqué
tests:
  - name: avec FranceConnect
    answers:
      connexion: { _action: franceconnect }
      demande: { motif: Banque }
    ends_at: fin
  - name: mot de passe oublié, puis connexion
    answers:
      connexion:
        - { _action: oubli }
        - { identifiant: "{{ persona.email }}", mot_de_passe: "{{ persona.mot_de_passe }}" }
      demande: { _action: sans-motif }
      sans-motif: { precision: Aucune }
    ends_at: fin
"#;

fn lib_with(scenario: &str) -> Library {
    let files = FileSet::from_memory("mem", &[("demo/fc.group.yaml", GROUP), ("demo/attestation.yaml", scenario)]);
    Library::load(&files, &library::embedded_themes())
}

fn headlines(lib: &Library) -> Vec<String> {
    lib.diagnostics.iter().map(|d| d.headline()).collect()
}

#[test]
fn actions_check_clean_and_walkthroughs_take_them() {
    let lib = lib_with(SCENARIO);
    assert!(lib.diagnostics.is_empty(), "{}", lib.render_diagnostics());
    assert_eq!((lib.walkthroughs_run, lib.walkthroughs_passed), (2, 2));
    let s = lib.get("demo/attestation").unwrap();
    let login = &s.steps[s.step_index("connexion").unwrap()];
    let keys: Vec<(&str, &str, bool)> = login.actions.iter().map(|a| (a.key.as_str(), a.label.as_str(), a.franceconnect)).collect();
    assert_eq!(keys, vec![("franceconnect", "S'identifier avec FranceConnect", true), ("oubli", "Mot de passe oublié ?", false)]);
}

#[test]
fn an_action_moves_on_without_checking_or_keeping_the_form() {
    let lib = lib_with(SCENARIO);
    let s = lib.get("demo/attestation").unwrap();
    let p = persona::generate(&s.persona, 1);
    let stage = Stage { scenario: s, persona: &p };
    let now = 1_775_030_400;
    let mut r = Rehearsal::start(s, 1, now);
    let go = |r: &mut Rehearsal, pairs: &[(&str, &str)]| {
        let form: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        r.submit(stage, &form, now).unwrap()
    };
    // One wrong password counts; an action neither checks nor resets it.
    assert!(matches!(go(&mut r, &[("identifiant", "x@example.org"), ("mot_de_passe", "faux")]), Outcome::Invalid { .. }));
    assert_eq!(go(&mut r, &[("_action", "oubli"), ("identifiant", "pas-une-adresse")]), Outcome::Moved);
    assert_eq!(r.current(s).id, "oubli");
    assert!(r.answers.is_empty(), "{:?}", r.answers);
    assert!(r.back(s));
    assert_eq!(r.current(s).id, "connexion");
    // Not one of the step's actions: refused, the rehearsal stays.
    assert_eq!(go(&mut r, &[("_action", "fin")]), Outcome::UnknownAction);
    assert_eq!(r.current(s).id, "connexion");
    assert_eq!(go(&mut r, &[("_action", "franceconnect")]), Outcome::Moved);
    assert_eq!(r.current(s).id, "fc-choix");
}

#[test]
fn the_review_does_not_list_a_step_left_by_an_action() {
    let lib = lib_with(SCENARIO);
    let s = lib.get("demo/attestation").unwrap();
    let p = persona::generate(&s.persona, 1);
    let stage = Stage { scenario: s, persona: &p };
    let now = 1_775_030_400;
    let mut r = Rehearsal::start(s, 1, now);
    let go = |r: &mut Rehearsal, pairs: &[(&str, &str)]| {
        let form: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        r.submit(stage, &form, now).unwrap()
    };
    go(&mut r, &[("_action", "franceconnect")]);
    go(&mut r, &[]);
    assert_eq!(r.current(s).id, "demande");
    go(&mut r, &[("_action", "sans-motif"), ("motif", "Banque")]);
    go(&mut r, &[("precision", "Aucune")]);
    assert_eq!(r.current(s).id, "recapitulatif");
    let review = r.view(stage, now, None).unwrap().review;
    let listed: Vec<&str> = review.iter().map(|b| b.step.as_str()).collect();
    assert_eq!(listed, vec!["sans-motif"]);
    assert!(!review.iter().flat_map(|b| &b.rows).any(|row| row.value.contains("Banque") || row.label_html.contains("motif")));

    // Back to the form, sent this time: now the review lists it.
    r.reset(s, now);
    go(&mut r, &[("_action", "franceconnect")]);
    go(&mut r, &[]);
    go(&mut r, &[("_action", "sans-motif")]);
    assert!(r.back(s));
    go(&mut r, &[("motif", "Banque")]);
    let review = r.view(stage, now, None).unwrap().review;
    assert_eq!(review.iter().map(|b| b.step.as_str()).collect::<Vec<_>>(), vec!["demande"]);
}

#[test]
fn mistakes_in_actions_are_reported_where_written() {
    let broken = SCENARIO
        .replace("      - { label: \"Mot de passe oublié ?\", goto: oubli }", "      - { label: \"Mot de passe oublié ?\", goto: oubil }\n      - { goto: oubli }\n      - { franceconnect: true, label: FC, goto: oubli }")
        .replace("    title: Demande envoyée", "    title: Demande envoyée\n    actions:\n      - { label: Encore, goto: demande }")
        .replace("      demande: { _action: sans-motif }", "      demande: { _action: sans-motf, motif: Banque }");
    let lib = lib_with(&broken);
    assert_eq!(
        headlines(&lib),
        vec![
            "mem/demo/attestation.yaml:21:49: error: no step `oubil`",
            "mem/demo/attestation.yaml:22:9: error: this action has no `label`",
            "mem/demo/attestation.yaml:23:39: error: an action is either `franceconnect: true` or has a `label`",
            "mem/demo/attestation.yaml:51:9: error: a `receipt` step has no `actions`",
            // The misspelt `goto` left the step without that action.
            "mem/demo/attestation.yaml:64:22: error: step `connexion` has no action `oubli`",
            "mem/demo/attestation.yaml:66:27: error: step `demande` has no action `sans-motf`",
            "mem/demo/attestation.yaml:66:38: error: `motif` is typed along with `_action`",
        ],
        "{}",
        lib.render_diagnostics()
    );
    let twice = SCENARIO.replace(
        "      - { franceconnect: true, goto: fc-choix }",
        "      - { franceconnect: true, goto: fc-choix }\n      - { franceconnect: plus, goto: fc-choix }",
    );
    assert_eq!(headlines(&lib_with(&twice)), vec!["mem/demo/attestation.yaml:21:9: error: the FranceConnect button is listed twice"]);
}

#[tokio::test]
async fn the_login_page_shows_the_franceconnect_button_and_its_links_and_posts_them() {
    let mut c = Client::new(lib_with(SCENARIO));
    let base = "/scenarios/demo/attestation";
    let page = c.post_follow(&format!("{base}/commencer"), &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    // The form's own button comes first: Enter in a field sends the form.
    let main = body.find("<button type=\"submit\" class=\"button\">Se connecter</button>").expect("the login button");
    let forgot = body
        .find(r#"<button type="submit" name="_action" value="oubli" formnovalidate class="link-button">Mot de passe oublié ?</button>"#)
        .expect("the link");
    assert!(main < forgot);
    assert!(body.contains(r#"name="_action" value="franceconnect" formnovalidate class="fc-button"><span class="fc-button-intro">S'identifier avec</span> <span class="fc-button-brand">FranceConnect</span></button>"#), "{body}");
    assert!(body.contains("<summary>Qu'est-ce que FranceConnect ?</summary>"));

    // A forged action is refused; the page stays where it was.
    let forged = c.post(&format!("{base}/etape/connexion"), &[("_action", "fin")]).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let fc = c.post_follow(&format!("{base}/etape/connexion"), &[("_action", "franceconnect")]).await;
    assert!(fc.body.contains("Je choisis un compte pour me connecter"), "{}", fc.body);
    assert!(fc.body.contains(">Précédent</button>"));
}

#[tokio::test]
async fn walkthroughs_with_actions_walk_over_http() {
    let mut c = Client::new(lib_with(SCENARIO));
    for test in 0..2 {
        let end = walk_over_http(&mut c, "demo/attestation", test).await;
        assert!(end.body.contains("Demande envoyée"), "{}", end.body);
    }
    let mut c = Client::embedded();
    let s = c.state.loaded().library.get("impots/se-connecter").unwrap().clone();
    let fc = s.tests.iter().position(|t| t.name == "avec FranceConnect et le compte ameli").unwrap();
    let end = walk_over_http(&mut c, "impots/se-connecter", fc).await;
    assert!(end.body.contains("Vous êtes déconnecté"), "{}", end.body);
}

#[tokio::test]
async fn the_flow_diagram_draws_each_action_as_an_arrow() {
    let mut c = Client::new(lib_with(SCENARIO));
    let page = c.get("/auteur/scenarios/demo/attestation").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = common::unescape(&page.body);
    assert!(body.contains("« Mot de passe oublié ? »"), "{body}");
    assert!(body.contains("« S'identifier avec FranceConnect »"), "{body}");
}
