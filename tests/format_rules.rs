//! The rules of scenario format v2 that fields and walkthroughs follow:
//! date bounds (fixed, relative to today, from another answer), amounts in
//! whole euros, misused keys located, duplicate YAML keys, computed values
//! on branches that rejoin, expected values as templates, walkthroughs that
//! leave answers unplayed, and documents that read undefined values. Over
//! HTTP, the refusals a visitor sees.

mod common;

use axum::http::StatusCode;
use common::{Client, Page, unescape};
use miroir::testing::files::FileSet;
use miroir::testing::library::{self, Library};
use miroir::testing::walkthrough;
use miroir::testing::web::clock::now;

const HEAD: &str = "title: Règles\noperator: demo\nsummary: x\nlevel: debutant\nduration_minutes: 1\nvalid_as_of: 2026-04-15\n";

fn load(files: &[(&str, &str)]) -> Library {
    Library::load(&FileSet::from_memory("mem", files), &library::embedded_themes())
}

fn headlines(lib: &Library) -> Vec<String> {
    lib.diagnostics.iter().map(|d| d.headline()).collect()
}

#[test]
fn misused_bounds_and_keys_are_located() {
    let text = format!(
        "{HEAD}steps:
  - id: a
    kind: form
    title: A
    fields:
      - {{ name: debut, label: Début, type: date, max: today, min: 0 }}
      - {{ name: n, label: N, type: number, min: today, max_length: 3 }}
      - {{ name: t, label: T, type: text, cents: false, min: 3 }}
      - {{ name: d2, label: D2, type: date, min: answers.n, max: answers.fni }}
      - {{ name: d3, label: D3, type: date, min: \"2026-05-01\", max: 01/01/2026 }}
      - {{ name: d4, label: D4, type: date, min: today - 18 ans, max: answers.d4 }}
      - {{ name: d5, label: D5, type: date, max_length: 10 }}
    next: fin
  - {{ id: fin, kind: receipt, title: Fin }}
"
    );
    let lib = load(&[("demo/regles.yaml", &text)]);
    assert_eq!(
        headlines(&lib),
        vec![
            "mem/demo/regles.yaml:12:67: error: `min` of a `date` field is a date; got `0`",
            "mem/demo/regles.yaml:13:49: error: `min` of a `number` field is a number; got `today`",
            "mem/demo/regles.yaml:13:68: error: `max_length` applies to text fields (`text`, `textarea`, `password`, `email`), not to a `number`",
            "mem/demo/regles.yaml:14:49: error: `cents` applies to `money` fields",
            "mem/demo/regles.yaml:14:61: error: `min` applies to `number`, `money` and `date` fields, not to a `text`",
            "mem/demo/regles.yaml:15:49: error: `min` of `d2` reads `answers.n`, a `number` field, not a `date`",
            "mem/demo/regles.yaml:15:65: error: unknown variable `answers.fni`",
            "mem/demo/regles.yaml:16:68: error: `max` (01/01/2026) is below `min` (01/05/2026)",
            "mem/demo/regles.yaml:17:49: error: `today - 18 ans` is not a date bound",
            "mem/demo/regles.yaml:17:70: error: `max` of `d4` reads its own answer",
            "mem/demo/regles.yaml:18:56: error: `max_length` applies to text fields (`text`, `textarea`, `password`, `email`), not to a `date`",
        ]
    );
    let hint = lib.diagnostics.iter().find(|d| d.pos.line == 15 && d.pos.col == 65).and_then(|d| d.hint.clone());
    assert_eq!(hint.as_deref(), Some("no field is named so"));
}

#[test]
fn a_duplicate_key_names_the_first_one() {
    let text = format!(
        "{HEAD}steps:
  - id: a
    kind: info
    title: A
    # the second `title` below is a copy-paste slip
    title: B
    next: fin
  - {{ id: fin, kind: receipt, title: Fin, next: a, title: C }}
"
    );
    let lib = load(&[("demo/double.yaml", &text)]);
    assert_eq!(headlines(&lib), vec!["mem/demo/double.yaml:12:5: error: key `title` appears twice; first at 10:5"]);
    assert_eq!(lib.diagnostics[0].hint.as_deref(), Some("remove one of the two entries"));
}

/// Two branches each compute `montant`; the step after them reads it, and
/// the walkthroughs expect values computed from the persona.
const BRANCHES: &str = "steps:
  - id: choix
    kind: choice
    title: Choix
    fields:
      - name: voie
        label: Voie
        type: radio
        options: [courte, longue]
    next:
      - if: answers.voie == 'courte'
        goto: courte
      - goto: longue
  - id: courte
    kind: form
    title: Courte
    fields:
      - { name: salaire, label: Salaire, type: money, prefill: persona.salaires, cents: false }
    compute:
      montant: answers.salaire + 1000
    next: total
  - id: longue
    kind: form
    title: Longue
    fields:
      - { name: heures, label: Heures, type: number }
    compute:
      montant: answers.heures * 10
    next: total
  - id: total
    kind: info
    title: \"Total : {{ computed.montant | money }}\"
    compute:
      double: computed.montant * 2
    next: fin
  - { id: fin, kind: receipt, title: Fin }
persona:
  fields:
    salaires: { money: 14000..38000 }
";

#[test]
fn computed_values_of_one_name_on_rejoining_branches() {
    let tests = "tests:
  - name: courte
    answers:
      choix: { voie: courte }
    ends_at: fin
    expect:
      computed.montant: \"{{ persona.salaires + 1000 }}\"
      computed.double: \"{{ (persona.salaires + 1000) * 2 }}\"
  - name: longue
    answers:
      choix: { voie: longue }
      longue: { heures: \"12\" }
    ends_at: fin
    expect:
      computed.montant: \"120\"
      computed.double: \"240\"
";
    let lib = load(&[("demo/branches.yaml", &format!("{HEAD}{BRANCHES}{tests}"))]);
    assert_eq!(headlines(&lib), Vec::<String>::new());
    assert_eq!((lib.walkthroughs_run, lib.walkthroughs_passed), (2, 2));
}

#[test]
fn an_expected_template_that_differs_fails_with_both_values() {
    let tests = "tests:
  - name: attendu faux
    seed: 3
    answers:
      choix: { voie: courte }
    ends_at: fin
    expect:
      computed.montant: \"{{ persona.salaires }}\"
";
    let lib = load(&[("demo/branches.yaml", &format!("{HEAD}{BRANCHES}{tests}"))]);
    let s = Library::load(
        &FileSet::from_memory("mem", &[("demo/branches.yaml", &format!("{HEAD}{BRANCHES}tests: []\n"))]),
        &library::embedded_themes(),
    );
    let persona = s.get("demo/branches").unwrap().persona_of(3, None);
    let salaires = persona.values["salaires"].as_i64().unwrap();
    assert_eq!(
        headlines(&lib),
        vec![format!(
            "mem/demo/branches.yaml:53:7: error: walkthrough `attendu faux`: `computed.montant` is `{}`, expected `{salaires}`",
            salaires + 1000
        )]
    );
}

#[test]
fn answers_left_unplayed_at_the_end_fail_the_walkthrough() {
    // The walkthrough means to rehearse the long way, but its choice takes
    // the short one: it used to pass without ever playing `longue`.
    let tests = "tests:
  - name: jamais jouée
    answers:
      choix: { voie: courte }
      longue: { heures: \"12\" }
    ends_at: fin
  - name: essais en trop
    answers:
      choix:
        - { voie: courte }
        - { voie: longue }
    ends_at: fin
";
    let lib = load(&[("demo/branches.yaml", &format!("{HEAD}{BRANCHES}{tests}"))]);
    assert_eq!(
        headlines(&lib),
        vec![
            "mem/demo/branches.yaml:50:7: error: walkthrough `jamais jouée`: the rehearsal reached `fin` without playing the answers given for step `longue`",
            "mem/demo/branches.yaml:54:7: error: walkthrough `essais en trop`: the rehearsal reached `fin` without playing the answers given for step `choix` (1 of 2 attempts played)",
        ]
    );
}

#[test]
fn an_undefined_value_in_a_theme_document_is_located_in_the_document() {
    let themes = library::embedded_themes().overlaid(FileSet::from_memory(
        "themes",
        &[
            ("essai/theme.yaml", "label: Essai — simulation\n"),
            (
                "essai/templates/documents/attestation.html",
                "<article class=\"document\">\n  <h1>{{ document.title }}</h1><img src=\"{{ routes.assets }}/essai/logo.svg\" alt=\"\">\n  <p>Salaire : {{ answers.salaire | money }}</p>\n  <p>Montant : {{ answers.montnat | money }}, {{ computed.totl }}, {{ persona.numero_fical }}</p>\n  <p>{{ servise }}</p>\n  {% if computed.impot is defined %}<p>{{ computed.impot | money }} {{ answers.case_1aj }}</p>{% endif %}\n</article>\n",
            ),
        ],
    ));
    let text = format!(
        "{HEAD}theme: essai\n{}",
        BRANCHES.replace(
            "  - { id: fin, kind: receipt, title: Fin }",
            "  - id: fin\n    kind: receipt\n    title: Fin\n    document: { template: attestation, title: Attestation }",
        )
    );
    let lib = Library::load(&FileSet::from_memory("mem", &[("demo/doc.yaml", &text)]), &themes);
    let used_by = "(document of step `fin` in mem/demo/doc.yaml)";
    assert_eq!(
        headlines(&lib),
        vec![
            format!("themes/essai/templates/documents/attestation.html:4:19: error: unknown variable `answers.montnat` {used_by}"),
            format!("themes/essai/templates/documents/attestation.html:4:50: error: unknown variable `computed.totl` {used_by}"),
            format!("themes/essai/templates/documents/attestation.html:4:71: error: unknown persona field `numero_fical` {used_by}"),
            format!("themes/essai/templates/documents/attestation.html:5:9: error: unknown variable `servise` {used_by}"),
        ]
    );
    let hint = |line: u32, col: u32| lib.diagnostics.iter().find(|d| d.pos.line == line && d.pos.col == col).and_then(|d| d.hint.clone());
    assert_eq!(hint(4, 19).as_deref(), Some("no field of the scenario is named so"));
    assert_eq!(hint(5, 9).as_deref(), Some("did you mean `service`?"));
    assert!(lib.get("demo/doc").is_none(), "a scenario whose document reads nothing is not served");
}

/// The session's id, from its cookie.
fn session_id(c: &Client) -> uuid::Uuid {
    let cookie = c.cookie.as_deref().expect("a session cookie");
    uuid::Uuid::parse_str(cookie.trim_start_matches("miroir=")).unwrap()
}

/// A rehearsal of `id` brought to `step` by the walkthrough named `test`,
/// in the visitor's session, its clock at now.
async fn at_step(c: &mut Client, id: &str, test: &str, step: &str) -> Page {
    let s = c.state.loaded().library.get(id).unwrap().clone();
    c.post_follow(&format!("/scenarios/{id}/commencer"), &[]).await;
    let t = s.tests.iter().find(|t| t.name == test).unwrap_or_else(|| panic!("no walkthrough `{test}`"));
    let mut r = walkthrough::replay_to(&s, t, step).unwrap_or_else(|| panic!("`{test}` never reaches `{step}`"));
    r.restart_clock(now());
    let sid = session_id(c);
    let mut session = std::sync::Arc::unwrap_or_clone(c.state.store.load(sid).await.unwrap().unwrap());
    session.put(r);
    c.state.store.save(sid, session.into()).await.unwrap();
    let page = c.get_follow(&format!("/scenarios/{id}/etape")).await;
    assert_eq!(page.status, StatusCode::OK);
    page
}

fn day(offset: i64) -> String {
    let today = time::OffsetDateTime::from_unix_timestamp(now() as i64).unwrap().date();
    miroir::testing::persona::format_date(today + time::Duration::days(offset))
}

/// France Travail's sick leave: an end before the start, or a start in
/// the future, is refused with the rule's date, and the page keeps them.
#[tokio::test]
async fn a_sick_leave_that_ends_before_it_starts_is_refused() {
    let mut c = Client::embedded();
    let id = "france-travail/actualisation";
    let page = at_step(&mut c, id, "deux employeurs et un arrêt maladie, justificatifs plus tard", "arret-maladie").await;
    assert!(page.body.contains("Votre arrêt maladie"), "{}", page.body);
    let url = format!("/scenarios/{id}/etape/arret-maladie");
    let (start, end) = (day(-14), day(-24));
    let page = c.post(&url, &[("arret_debut", &start), ("arret_fin", &end)]).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = unescape(&page.body);
    assert!(body.contains(&format!("La date doit être postérieure ou égale au {start}.")), "{body}");
    let page = c.post(&url, &[("arret_debut", &day(1)), ("arret_fin", &day(5))]).await;
    assert!(unescape(&page.body).contains("La date ne peut pas être postérieure à la date du jour."), "{}", page.body);
    let page = c.post(&url, &[("arret_debut", &end), ("arret_fin", &start)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// impots.gouv's "Gérer mon prélèvement à la source": an event date in the
/// future or in an earlier year, and an estimate with cents, are refused
/// with the real sites' style of wording, over HTTP.
#[tokio::test]
async fn the_withholding_rate_refuses_future_dates_and_cents() {
    let mut c = Client::embedded();
    let id = "impots/gerer-prelevement-source";
    let page = at_step(&mut c, id, "mariage, une date future refusée", "date-evenement").await;
    assert!(page.body.contains("Date de l&#x27;événement") || page.body.contains("Date de l'événement"), "{}", page.body);
    let url = format!("/scenarios/{id}/etape/date-evenement");
    let page = c.post(&url, &[("date_evenement", &day(1))]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(unescape(&page.body).contains("La date ne peut pas être postérieure à la date du jour."), "{}", page.body);
    let year = time::OffsetDateTime::from_unix_timestamp(now() as i64).unwrap().year();
    let page = c.post(&url, &[("date_evenement", &format!("31/12/{}", year - 1))]).await;
    assert!(unescape(&page.body).contains("La date de l'événement doit se situer dans l'année en cours."), "{}", page.body);
    let page = c.post(&url, &[("date_evenement", &format!("01/01/{year}"))]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    let mut c = Client::embedded();
    at_step(&mut c, id, "actualiser après une baisse de revenus, célibataire", "estimation").await;
    let url = format!("/scenarios/{id}/etape/estimation");
    let page = c.post(&url, &[("salaires_estimes", "37 945,50")]).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = unescape(&page.body);
    assert!(body.contains("Le montant doit être un nombre entier."), "{body}");
    assert!(body.contains("value=\"37 945,50\""), "the refused amount is shown again: {body}");
    let page = c.post_follow(&url, &[("salaires_estimes", "37 945")]).await;
    assert!(unescape(&page.body).contains("Revenus estimés pour"), "{}", page.body);
    assert!(page.body.contains("37\u{202f}945 €"), "{}", page.body);
}

/// Field and list names: unique where answers read them (an item's fields
/// among themselves, lists and fields in the scenario), and readable.
#[test]
fn field_and_list_names_are_unique_and_readable() {
    let text = format!(
        "{HEAD}steps:
  - id: a
    kind: form
    title: A
    fields:
      - {{ name: nom, label: Nom, type: text }}
      - {{ name: nom, label: Nom encore, type: text }}
      - {{ name: _cache, label: Caché, type: text }}
    next: b
  - id: b
    kind: form
    title: B
    repeat: {{ name: nom, item: Enfant, add: Ajouter }}
    fields:
      - {{ name: prenom, label: Prénom, type: text }}
      - {{ name: prenom, label: Prénom encore, type: text }}
      - {{ name: a b, label: Espace, type: text }}
    next: c
  - id: c
    kind: form
    title: C
    repeat: {{ name: _liste, item: Chose, add: Ajouter }}
    fields:
      - {{ name: nom, label: Nom, type: text }}
    next: fin
  - {{ id: fin, kind: receipt, title: Fin }}
"
    );
    let lib = load(&[("demo/noms.yaml", &text)]);
    let found: Vec<(String, Option<String>)> = lib.diagnostics.iter().map(|d| (d.headline(), d.hint.clone())).collect();
    let hint = |h: &str| Some(h.to_owned());
    let readable = "use letters, digits, `_` and `-`, not starting with `_`";
    assert_eq!(
        found,
        vec![
            (
                "mem/demo/noms.yaml:13:17: error: duplicate field name `nom` (first used at line 12)".to_owned(),
                hint("answers are read by name: give each field its own")
            ),
            ("mem/demo/noms.yaml:14:17: error: `_cache` is not a valid field name".to_owned(), hint(readable)),
            (
                "mem/demo/noms.yaml:19:21: error: duplicate field name `nom` (first used at line 13)".to_owned(),
                hint("a list is read as `answers.<name>`, as a field")
            ),
            (
                "mem/demo/noms.yaml:22:17: error: duplicate field name `prenom` (first used at line 21)".to_owned(),
                hint("each field of an item needs its own name")
            ),
            ("mem/demo/noms.yaml:23:17: error: `a b` is not a valid field name".to_owned(), hint(readable)),
            ("mem/demo/noms.yaml:28:21: error: `_liste` is not a valid list name".to_owned(), hint(readable)),
        ]
    );
}
