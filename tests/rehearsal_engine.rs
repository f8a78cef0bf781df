//! The rehearsal engine walked by hand on the bundled impots scenario:
//! errors in the real site's wording, incidents, back, "Modifier" from the
//! review, reset, new persona, inbox, and the size of a rehearsal.

use miroir::testing::expr::plain;
use miroir::testing::field::{Problem, REAL_DATA_MESSAGE};
use miroir::testing::library::Library;
use miroir::testing::persona::{self, Persona, ids};
use miroir::testing::rehearsal::{Outcome, Rehearsal, Stage};
use miroir::testing::scenario::Scenario;
use std::sync::{Arc, LazyLock};

static LIB: LazyLock<Library> = LazyLock::new(Library::embedded);
const NOW: u64 = 1_775_030_400; // 2026-04-01

fn scenario() -> Arc<Scenario> {
    LIB.get("impots/declaration-revenus").expect("bundled scenario").clone()
}

fn persona_of(s: &Scenario, seed: u64) -> Persona {
    persona::generate(&s.persona, seed)
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn submit(r: &mut Rehearsal, s: &Scenario, p: &Persona, pairs: &[(&str, &str)]) -> Outcome {
    r.submit(Stage { scenario: s, persona: p }, &form(pairs), NOW).expect("no scenario error")
}

fn step(r: &Rehearsal, s: &Scenario) -> String {
    r.current(s).id.clone()
}

/// The first seed from `from` whose persona has no child: the tax figures
/// below are those of one part.
fn childless(from: u64) -> u64 {
    let s = scenario();
    (from..).find(|&seed| persona_of(&s, seed).values["nombre_enfants"] == 0).unwrap()
}

/// Logs in and reaches the given step of the usual path.
fn walk_to(target: &str, seed: u64) -> (Rehearsal, Arc<Scenario>, Persona) {
    let s = scenario();
    let p = persona_of(&s, seed);
    let mut r = Rehearsal::start(&s, seed, NOW);
    let path: Vec<(&str, Vec<(String, String)>)> = vec![
        ("connexion", form(&[("numero_fiscal", &p.text("numero_fiscal")), ("mot_de_passe", &p.text("mot_de_passe"))])),
        ("code-securite", vec![]),
        ("accueil", vec![]),
        // Declared as single, whatever the persona's situation: the path
        // of a single person (couples go through "Déclarant 2").
        ("informations", form(&[("situation", "celibataire"), ("adresse_identique", "oui"), ("courriel", &p.text("email"))])),
        // Salaries only: the rubriques a retired persona would have ticked
        // are not its default here.
        ("rubriques", form(&[("rubriques", "salaires")])),
        ("revenus", form(&[("1AJ", "24000")])),
        ("recapitulatif", vec![]),
        ("signature", form(&[("certifie", "on")])),
    ];
    for (id, values) in path {
        if step(&r, &s) == target {
            break;
        }
        assert_eq!(step(&r, &s), id);
        let mut values = values;
        if id == "code-securite" {
            let ctx = r.context(Stage { scenario: &s, persona: &p }, NOW);
            let code = ctx.get_attr("inbox").unwrap().get_attr("code").unwrap().to_string();
            values = form(&[("code", &code)]);
        }
        let outcome = r.submit(Stage { scenario: &s, persona: &p }, &values, NOW).unwrap();
        assert_eq!(outcome, Outcome::Moved, "at {id}");
    }
    assert_eq!(step(&r, &s), target);
    (r, s, p)
}

#[test]
fn the_whole_path_ends_on_the_receipt_with_two_messages() {
    let (r, s, p) = walk_to("signature", 3);
    let mut r = r;
    match submit(&mut r, &s, &p, &[]) {
        Outcome::Invalid { errors, .. } => {
            assert_eq!(plain(&errors[0].message), "Vous devez cocher la case pour signer votre déclaration.");
            assert_eq!(errors[0].problem, Problem::Required);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(submit(&mut r, &s, &p, &[("certifie", "on")]), Outcome::Moved);
    assert_eq!(step(&r, &s), "accuse");
    assert!(r.is_finished(&s));
    let inbox = r.inbox_view(Stage { scenario: &s, persona: &p }, NOW).unwrap();
    assert_eq!(inbox.len(), 2);
    assert_eq!(inbox[0].subject_html.as_deref(), Some("Accusé de réception de votre déclaration de revenus"));
    assert_eq!(inbox[1].code.as_ref().map(String::len), Some(6));
    let view = r.view(Stage { scenario: &s, persona: &p }, NOW, None).unwrap();
    assert_eq!(view.document.unwrap().template, "documents/accuse-reception.html");
    assert!(!view.can_go_back);
}

#[test]
fn wrong_values_get_the_real_site_wording() {
    let (mut r, s, p) = walk_to("revenus", 4);
    let cases = [
        ("beaucoup", "Le montant doit être un nombre entier d'euros, sans centimes."),
        ("-5", "La valeur doit être supérieure ou égale à 0."),
    ];
    for (value, message) in cases {
        match submit(&mut r, &s, &p, &[("1AJ", value)]) {
            Outcome::Invalid { errors, values } => {
                assert_eq!(errors.len(), 1);
                assert_eq!(plain(&errors[0].message), message);
                assert_eq!(values["1AJ"], value, "the typed value is shown again");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(step(&r, &s), "revenus");
    }
}

#[test]
fn three_wrong_passwords_lock_the_account() {
    let s = scenario();
    let p = persona_of(&s, 5);
    let mut r = Rehearsal::start(&s, 5, NOW);
    let nf = p.text("numero_fiscal");
    let wrong = [("numero_fiscal", nf.as_str()), ("mot_de_passe", "Faux-0000")];
    let first = submit(&mut r, &s, &p, &wrong);
    let Outcome::Invalid { errors, .. } = first else { panic!("{first:?}") };
    assert_eq!(plain(&errors[0].message), "Le mot de passe est incorrect. Il vous reste 2 essais avant le blocage de votre espace.");
    let second = submit(&mut r, &s, &p, &wrong);
    let Outcome::Invalid { errors, .. } = second else { panic!("{second:?}") };
    assert!(plain(&errors[0].message).ends_with("Il vous reste 1 essai avant le blocage de votre espace."));
    assert_eq!(submit(&mut r, &s, &p, &wrong), Outcome::Incident);
    assert_eq!(step(&r, &s), "compte-bloque");
    assert!(r.is_finished(&s));
    assert!(r.inbox.is_empty(), "no code is sent after a failed login");
}

#[test]
fn a_success_resets_the_failure_count() {
    let s = scenario();
    let p = persona_of(&s, 6);
    let mut r = Rehearsal::start(&s, 6, NOW);
    let nf = p.text("numero_fiscal");
    submit(&mut r, &s, &p, &[("numero_fiscal", &nf), ("mot_de_passe", "x")]);
    submit(&mut r, &s, &p, &[("numero_fiscal", &nf), ("mot_de_passe", "x")]);
    assert_eq!(submit(&mut r, &s, &p, &[("numero_fiscal", &nf), ("mot_de_passe", &p.text("mot_de_passe"))]), Outcome::Moved);
    assert!(r.failures.is_empty());
}

#[test]
fn back_keeps_the_answers() {
    let (mut r, s, p) = walk_to("recapitulatif", 7);
    assert!(r.back(&s));
    assert_eq!(step(&r, &s), "revenus");
    let view = r.view(Stage { scenario: &s, persona: &p }, NOW, None).unwrap();
    assert_eq!(view.fields[0].value, "24000");
    assert!(r.back(&s));
    assert_eq!(step(&r, &s), "rubriques");
    assert!(r.back(&s));
    assert_eq!(step(&r, &s), "informations");
}

#[test]
fn modifier_from_the_review_comes_back_to_the_review() {
    let (mut r, s, p) = walk_to("recapitulatif", childless(8));
    let stage = Stage { scenario: &s, persona: &p };
    let review = r.view(stage, NOW, None).unwrap();
    let blocks: Vec<&str> = review.review.iter().map(|b| b.step.as_str()).collect();
    assert_eq!(blocks, vec!["informations", "rubriques", "revenus"]);
    assert_eq!(review.review[2].rows[0].value, "24\u{202f}000 €");
    // 24 000 € of salaries, one part: 1 111 € before the décote, 725 € after.
    let text = review.text_html.unwrap();
    assert!(text.contains("1\u{202f}111 €") && text.contains("725 €"), "{text}");

    assert!(r.edit(&s, "revenus"));
    assert_eq!(step(&r, &s), "revenus");
    let view = r.view(stage, NOW, None).unwrap();
    assert!(view.editing && view.can_go_back);
    assert_eq!(submit(&mut r, &s, &p, &[("1AJ", "30000")]), Outcome::Moved);
    assert_eq!(step(&r, &s), "recapitulatif");
    assert_eq!(r.computed["impot_brut"], serde_json::json!(1705));
    assert_eq!(r.computed["impot_estime"], serde_json::json!(1588));

    // Modifier an earlier step: the answers after it are kept, and the
    // path comes back to the review through them.
    assert!(r.edit(&s, "informations"));
    assert_eq!(
        submit(&mut r, &s, &p, &[("situation", "celibataire"), ("adresse_identique", "non"), ("courriel", "autre@example.org")]),
        Outcome::Moved
    );
    assert_eq!(step(&r, &s), "recapitulatif");
    assert_eq!(&r.answers["1AJ"], "30000");

    // "Précédent" while modifying goes back to the review.
    assert!(r.edit(&s, "revenus"));
    assert!(r.back(&s));
    assert_eq!(step(&r, &s), "recapitulatif");
    assert!(r.resume.is_empty());
    // The review still leads on.
    assert_eq!(submit(&mut r, &s, &p, &[]), Outcome::Moved);
    assert_eq!(step(&r, &s), "signature");
}

#[test]
fn only_answered_steps_can_be_modified_and_only_from_the_review() {
    let (mut r, s, _) = walk_to("revenus", 9);
    assert!(!r.edit(&s, "informations"), "not on the review");
    let (mut r2, s2, _) = walk_to("recapitulatif", 9);
    assert!(!r2.edit(&s2, "signature"), "not answered yet");
    assert!(!r2.edit(&s2, "connexion"), "a login is not modified");
    assert!(!r.edit(&s, "nope"));
}

#[test]
fn reset_keeps_the_persona_and_new_persona_changes_it() {
    let (mut r, s, p) = walk_to("revenus", 10);
    r.reset(&s, NOW + 5);
    assert_eq!(step(&r, &s), "connexion");
    assert!(r.answers.is_empty() && r.inbox.is_empty() && r.history.is_empty());
    assert_eq!(r.seed, 10);
    assert_eq!(persona_of(&s, r.seed), p);
    r.restart_with(&s, 11, NOW);
    assert_ne!(persona_of(&s, r.seed).values["nom"], p.values["nom"]);
}

#[test]
fn the_security_code_expires() {
    let (mut r, s, p) = walk_to("code-securite", 12);
    let code = r.context(Stage { scenario: &s, persona: &p }, NOW).get_attr("inbox").unwrap().get_attr("code").unwrap().to_string();
    r.wait(31);
    assert_eq!(submit(&mut r, &s, &p, &[("code", &code)]), Outcome::Moved);
    assert_eq!(step(&r, &s), "code-expire");
    // The incident leads back to the login, and a new code is sent.
    assert_eq!(submit(&mut r, &s, &p, &[]), Outcome::Moved);
    assert_eq!(step(&r, &s), "connexion");
    submit(&mut r, &s, &p, &[("numero_fiscal", &p.text("numero_fiscal")), ("mot_de_passe", &p.text("mot_de_passe"))]);
    let new_code = r.context(Stage { scenario: &s, persona: &p }, NOW).get_attr("inbox").unwrap().get_attr("code").unwrap().to_string();
    assert_ne!(code, new_code);
    assert_eq!(r.inbox.len(), 2);
    assert_eq!(submit(&mut r, &s, &p, &[("code", &new_code)]), Outcome::Moved);
    assert_eq!(step(&r, &s), "accueil");
}

#[test]
fn someone_s_real_numero_fiscal_is_refused_and_not_kept() {
    let s = scenario();
    let p = persona_of(&s, 13);
    let mut r = Rehearsal::start(&s, 13, NOW);
    // A valid numéro fiscal outside the fictitious range.
    let first10 = "0701987765";
    let real = format!("{first10}{}", ids::numero_fiscal_key(first10).unwrap());
    assert!(ids::numero_fiscal_valid(&real));
    match submit(&mut r, &s, &p, &[("numero_fiscal", &real), ("mot_de_passe", "x")]) {
        Outcome::Invalid { errors, values } => {
            assert_eq!(plain(&errors[0].message), REAL_DATA_MESSAGE);
            assert!(!values.contains_key("numero_fiscal"), "the value is not kept");
        }
        other => panic!("{other:?}"),
    }
    assert!(r.answers.is_empty());
    assert!(!serde_json::to_string(&r).unwrap().contains(&real));
}

#[test]
fn a_rehearsal_stays_small_and_holds_no_persona() {
    let (r, s, p) = walk_to("recapitulatif", 14);
    assert!(s.steps.len() >= 10);
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.len() < 2048, "{} bytes: {json}", json.len());
    assert!(!json.contains(&p.text("nom")));
    assert!(!json.contains(&p.text("mot_de_passe")), "passwords are never kept");
    let back: Rehearsal = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn the_persona_card_lists_what_the_scenario_asks_for() {
    let s = scenario();
    // A retired couple: every conditional line shows.
    let seed = (1..2_000)
        .find(|&n| {
            let p = persona_of(&s, n);
            p.get("conjoint").is_some_and(|c| c.is_object()) && p.get("age").and_then(|a| a.as_i64()).unwrap() >= 65
        })
        .unwrap();
    let p = persona_of(&s, seed);
    let card = miroir::testing::rehearsal::view::card(&s, &p);
    let labels: Vec<&str> = card.identifiers.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(
        labels,
        vec![
            "Numéro fiscal",
            "Mot de passe",
            "Adresse électronique",
            "Situation familiale",
            "Téléphone portable",
            "Salaires",
            "Salaires du conjoint",
            "Pensions de retraite",
            "Pensions de retraite du conjoint",
            // What the FranceConnect group asks for (the ameli account).
            "Numéro de sécurité sociale (13 chiffres)",
            "Date de naissance",
            "Lieu de naissance"
        ]
    );
    assert_eq!(card.identifiers[0].value, ids::format_numero_fiscal(&p.text("numero_fiscal")));
}

/// The card and the pages count ages on the rehearsal's today, not at
/// `valid_as_of`: someone whose birthday falls between the two is a year
/// older; "1 an", never "1 ans".
#[test]
fn ages_on_the_card_are_counted_on_the_rehearsal_s_today() {
    let s = scenario();
    // Personas are drawn at `valid_as_of` (December 2026); the rehearsal
    // runs on 4 June 2027.
    assert_eq!(s.valid_as_of, "2026-12");
    const JUNE_4: u64 = 1_812_067_200; // 2027-06-04
    let born_in_between = |p: &Persona| {
        let b = persona::parse_date(&p.text("date_naissance")).unwrap();
        let md = (u8::from(b.month()), b.day());
        md > (12, 1) || md <= (6, 4)
    };
    let seed = (1..).find(|&seed| born_in_between(&s.persona_of(seed, None))).unwrap();
    let r = Rehearsal::start(&s, seed, JUNE_4);
    let at_reference = s.persona_of(seed, None);
    let today = r.persona(&s, JUNE_4);
    let age = at_reference.get("age").unwrap().as_i64().unwrap();
    assert_eq!(today.get("age").unwrap().as_i64().unwrap(), age + 1);
    let card = miroir::testing::rehearsal::view::card(&s, &today);
    let line = &card.identity[1].value;
    assert!(line.contains(&format!("({} ans)", age + 1)), "{line}");
    let ctx = r.context(Stage { scenario: &s, persona: &today }, JUNE_4);
    assert_eq!(miroir::testing::expr::Expr::compile("persona.age").unwrap().eval(&ctx).unwrap().as_i64(), Some(age + 1));
    // "1 an" for a child of one.
    let mut spec = s.persona.clone();
    spec.children = miroir::testing::persona::spec::IntRange::new(1, 1);
    spec.age = miroir::testing::persona::spec::IntRange::new(18, 19);
    let with_baby = (0..2_000).map(|seed| persona::generate(&spec, seed)).find(|p| p.values["enfants"][0]["age"] == 1).unwrap();
    let card = miroir::testing::rehearsal::view::card(&s, &with_baby);
    let children = card.identity.iter().find(|l| l.label == "Enfants").unwrap();
    assert!(children.value.ends_with("(1 an)"), "{}", children.value);
}
