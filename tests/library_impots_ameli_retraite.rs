//! The impots, ameli and retraite scenarios of the library's second
//! version, checked where their walkthroughs cannot say it: the exact
//! wording of refused answers, what the pages teach (a recognised browser,
//! re-signing until the deadline), pre-ticked rubriques, a code sent again,
//! the operators' file counts and the retraite theme's documents.

mod common;

use common::Client;
use common::walk::walk_over_http;
use miroir::testing::expr::plain;
use miroir::testing::library::Library;
use miroir::testing::rehearsal::{Outcome, Rehearsal, Stage};
use miroir::testing::scenario::Scenario;
use miroir::testing::walkthrough;
use std::sync::{Arc, LazyLock};

static LIB: LazyLock<Library> = LazyLock::new(Library::embedded);
const NOW: u64 = 1_796_112_000; // 2026-12-01

fn scenario(id: &str) -> Arc<Scenario> {
    LIB.get(id).unwrap_or_else(|| panic!("{id} is bundled")).clone()
}

/// The rehearsal of walkthrough `test` of `id`, stopped at `step`.
fn at(id: &str, test: usize, step: &str) -> (Arc<Scenario>, Rehearsal) {
    let s = scenario(id);
    let r = walkthrough::replay_to(&s, &s.tests[test], step).unwrap_or_else(|| panic!("{id} #{test} reaches {step}"));
    assert_eq!(r.current(&s).id, step);
    (s, r)
}

/// Submits `pairs` and returns the error messages, in plain text.
fn refused(s: &Scenario, r: &mut Rehearsal, pairs: &[(&str, &str)]) -> Vec<String> {
    let persona = s.persona_of(r.seed, r.pinned.map(usize::from));
    let form: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    match r.submit(Stage { scenario: s, persona: &persona }, &form, NOW).expect("no scenario error") {
        Outcome::Invalid { errors, .. } => errors.iter().map(|e| plain(&e.message)).collect(),
        other => panic!("{} accepted {pairs:?}: {other:?}", s.id),
    }
}

fn text_of(s: &Scenario, step: &str) -> String {
    let step = s.steps.iter().find(|x| x.id == step).unwrap_or_else(|| panic!("{} has {step}", s.id));
    [&step.text, &step.hint].iter().filter_map(|t| t.as_ref().map(|t| t.source().to_owned())).collect::<Vec<_>>().join("\n")
}

#[test]
fn each_operator_has_its_files() {
    let count = |op: &str| LIB.scenarios.values().filter(|s| s.operator == op).count();
    assert!(count("impots") >= 7, "impots: {}", count("impots"));
    assert!(count("ameli") >= 4, "ameli: {}", count("ameli"));
    assert_eq!(count("retraite"), 3);
    for id in [
        "impots/mot-de-passe-oublie",
        "impots/messagerie-securisee",
        "impots/declaration-automatique",
        "ameli/creer-compte",
        "ameli/mot-de-passe-oublie",
        "ameli/complementaire-sante-solidaire",
        "retraite/demande-retraite",
        "retraite/releve-carriere",
        "retraite/attestation-paiement",
    ] {
        let s = scenario(id);
        assert_eq!(s.valid_as_of, "2026-12", "{id}");
        assert!(s.sources.len() >= 3, "{id}: its sources");
        assert!(s.tests.len() >= 3, "{id}: its walkthroughs");
    }
}

/// The hints no longer say the code changes at every login, nor that a
/// signed return cannot be changed online.
#[test]
fn the_impots_hints_say_what_the_site_does() {
    for id in ["impots/se-connecter", "impots/declaration-revenus"] {
        let s = scenario(id);
        let all: String = s.steps.iter().map(|st| text_of(&s, &st.id)).collect();
        assert!(!all.contains("change à chaque connexion"), "{id}");
        assert!(!all.contains("on ne peut plus modifier"), "{id}");
        assert!(text_of(&s, "code-securite").contains("l'ordinateur est reconnu"), "{id}");
    }
    let s = scenario("impots/declaration-revenus");
    assert!(text_of(&s, "recapitulatif").contains("**signer de nouveau**"));
    assert!(text_of(&s, "recapitulatif").contains("« Corriger ma déclaration en ligne »"));
}

#[test]
fn the_rubriques_are_pre_ticked_and_one_is_required() {
    let s = scenario("impots/declaration-revenus");
    // The walkthrough of a retired woman: pensions pre-ticked, not salaries.
    let retired = s.tests.iter().position(|t| t.name.starts_with("retraitée seule")).unwrap();
    let (s, r) = at("impots/declaration-revenus", retired, "rubriques");
    let persona = s.persona_of(r.seed, r.pinned.map(usize::from));
    let view = r.view(Stage { scenario: &s, persona: &persona }, NOW, None).unwrap();
    let ticked: Vec<&str> = view.fields[0].options.iter().filter(|o| o.checked).map(|o| o.value.as_str()).collect();
    assert_eq!(ticked, ["pensions"]);
    let (s, mut r) = at("impots/declaration-revenus", retired, "rubriques");
    assert_eq!(refused(&s, &mut r, &[]), ["Cochez au moins une rubrique."]);
}

/// "Code non reçu": a new code is sent, and only that one lets in.
#[tokio::test]
async fn a_code_not_received_is_sent_again() {
    let s = scenario("impots/se-connecter");
    let test = s.tests.iter().position(|t| t.name.starts_with("code non reçu")).unwrap();
    let mut c = Client::new(LIB.clone());
    let page = walk_over_http(&mut c, "impots/se-connecter", test).await;
    assert!(page.body.contains("Vous êtes déconnecté(e)"), "{}", page.body);
    let inbox = c.get("/scenarios/impots/se-connecter/messagerie").await;
    assert_eq!(inbox.body.matches("Votre code de sécurité").count(), 2, "{}", inbox.body);
    let message = c.get("/scenarios/impots/se-connecter/messagerie/1").await;
    assert!(message.body.contains("Voici votre nouveau code de sécurité"), "{}", message.body);
}

/// A scenario, a step, the answers typed and the message expected.
type Refusal = (&'static str, &'static str, &'static [(&'static str, &'static str)], &'static str);

#[test]
fn refused_answers_get_the_scenarios_wording() {
    let cases: [Refusal; 6] = [
        (
            "impots/mot-de-passe-oublie",
            "identite",
            &[("courriel", "x@example.org"), ("naissance", "01/01/1950")],
            "Les informations saisies ne correspondent pas à celles de votre espace.",
        ),
        ("impots/messagerie-securisee", "message", &[("objet", ""), ("texte", "Bonjour")], "Veuillez saisir l'objet de votre message."),
        (
            "ameli/creer-compte",
            "identification",
            &[("nir", "1234"), ("naissance", "01/01/1950"), ("code_postal", "750")],
            "Le code postal doit comporter 5 chiffres.",
        ),
        (
            "ameli/complementaire-sante-solidaire",
            "foyer",
            &[("foyer_exact", "oui"), ("numero_allocataire", "12345")],
            "Le numéro d'allocataire doit comporter 7 chiffres.",
        ),
        (
            "retraite/demande-retraite",
            "date-depart",
            &[("date_depart", "15/09/2027"), ("activite", "chomage")],
            "La date de départ doit être le premier jour d'un mois.",
        ),
        (
            "retraite/releve-carriere",
            "corriger",
            &[("type_anomalie", "salaire"), ("annee", "2001"), ("explication", "x")],
            "Ajoutez au moins un justificatif.",
        ),
    ];
    for (id, step, pairs, message) in cases {
        let (s, mut r) = at(id, 0, step);
        let errors = refused(&s, &mut r, pairs);
        assert!(errors.iter().any(|e| e == message), "{id} at {step}: {errors:?}");
    }
}

/// Every retraite walkthrough walks over HTTP in the retraite theme, and
/// its printable documents show the persona's figures.
#[tokio::test]
async fn the_retraite_documents_render_in_their_theme() {
    for (id, needle) in [
        ("retraite/attestation-paiement", "Montants versés"),
        ("retraite/demande-retraite", "Date de départ demandée"),
        ("retraite/releve-carriere", "Accusé de réception"),
    ] {
        let mut c = Client::new(LIB.clone());
        let page = walk_over_http(&mut c, id, 0).await;
        assert!(page.body.contains("/static/retraite/retraite.css"), "{id}");
        let doc = c.get(&format!("/scenarios/{id}/document")).await;
        assert!(doc.body.contains(needle), "{id}: {}", doc.body);
        assert!(doc.body.contains("SPÉCIMEN — sans valeur"), "{id}");
    }
    let mut c = Client::new(LIB.clone());
    walk_over_http(&mut c, "retraite/releve-carriere", 1).await;
    let doc = c.get("/scenarios/retraite/releve-carriere/document").await;
    assert!(doc.body.contains("Aucune période connue"), "{}", doc.body);
}
