//! The CAF and France Travail procedures, checked against what their
//! operators' pages say, over HTTP as a visitor sees them: the déclaration
//! trimestrielle's resources, the actualisation's order of questions, the
//! way back from an upload, the inscription's allowance request and draft,
//! and the procedures added to the library.

mod common;

use axum::http::StatusCode;
use common::{Client, Page};
use miroir::testing::library::Library;
use miroir::testing::walkthrough::{self, Move, Next, Script};
use miroir::testing::web::clock::now;

fn session_id(c: &Client) -> uuid::Uuid {
    uuid::Uuid::parse_str(c.cookie.as_deref().expect("a session cookie").trim_start_matches("miroir=")).unwrap()
}

/// Plays walkthrough `test` of scenario `id` over HTTP as its persona, and
/// stops on the first page of step `stop`, before answering it. Returns
/// that page and the persona's value of each name in `persona_values`.
async fn walk_until(c: &mut Client, id: &str, test: usize, stop: &str, persona_values: &[&str]) -> (Page, Vec<String>) {
    let s = c.state.loaded().library.get(id).unwrap_or_else(|| panic!("no scenario {id}")).clone();
    let base = format!("/scenarios/{id}");
    c.post_follow(&format!("{base}/commencer"), &[]).await;
    let sid = session_id(c);
    let store = c.state.store.clone();
    let mut session = std::sync::Arc::unwrap_or_clone(store.load(sid).await.unwrap().unwrap());
    session.put(walkthrough::start(&s, test, now()));
    store.save(sid, session.into()).await.unwrap();
    let mut script = Script::new(&s, &s.tests[test]);
    for _ in 0..200 {
        let page = c.get_follow(&format!("{base}/etape")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let r = store.load(sid).await.unwrap().unwrap().rehearsals[&s.id].clone();
        let step = r.current(&s).id.clone();
        let persona = r.persona(&s, now());
        if step == stop {
            return (page, persona_values.iter().map(|v| persona.text(v)).collect());
        }
        match script.next(&r, &persona, now()).unwrap_or_else(|f| panic!("{}", f.message)) {
            Next::Done => panic!("{id}: walkthrough {test} ended before `{stop}`"),
            Next::Moves(moves) => {
                for m in moves {
                    match m {
                        Move::Wait(minutes) => {
                            let mut session = std::sync::Arc::unwrap_or_clone(store.load(sid).await.unwrap().unwrap());
                            session.rehearsals.get_mut(&s.id).unwrap().wait(minutes);
                            store.save(sid, session.into()).await.unwrap();
                        }
                        Move::FollowLink(i) => {
                            c.post(&format!("{base}/messagerie/{i}/lien"), &[]).await;
                        }
                        Move::Act(key) => {
                            c.post(&format!("{base}/etape/{step}"), &[("_action", key.as_str())]).await;
                        }
                        Move::Submit(form) => {
                            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                            c.post(&format!("{base}/etape/{step}"), &pairs).await;
                        }
                    }
                }
            }
        }
    }
    panic!("{id}: `{stop}` never reached");
}

/// The text of a page as a person reads it: entities decoded.
fn read(page: &Page) -> String {
    common::unescape(&page.body)
}

/// caf.fr (2025): salaries, unemployment benefit, indemnités journalières and
/// pensions are pre-filled; "dons et secours" are no longer declared; the
/// amounts follow the month the employer or the organisation paid, not the
/// month the money reached the account.
#[tokio::test]
async fn caf_trimestrielle_prefills_replacement_income_and_drops_gifts() {
    const ID: &str = "caf/declaration-trimestrielle";
    let mut c = Client::embedded();
    let (page, _) = walk_until(&mut c, ID, 0, "ressources", &[]).await;
    let text = read(&page);
    assert!(!text.contains("reçu sur le compte dans le mois"), "{text}");
    assert!(text.contains("mois où l'employeur a payé"), "{text}");

    // Looking for work (walkthrough 1): the persona's unemployment benefit,
    // pre-filled for each month.
    let mut c = Client::embedded();
    let (page, values) = walk_until(&mut c, ID, 1, "allocations", &["allocation_chomage", "indemnites_journalieres"]).await;
    let text = read(&page);
    assert!(text.contains("Allocation chômage"), "{text}");
    assert!(text.contains("Indemnités journalières"), "{text}");
    for (name, value) in [("chomage_m4", &values[0]), ("chomage_m2", &values[0]), ("ij_m3", &values[1])] {
        let input = page.between(&format!("name=\"{name}\""), ">").unwrap_or_else(|| panic!("no input {name}"));
        assert!(input.contains(&format!("value=\"{value}\"")), "{name}: {input}, expected {value}");
    }

    // Retired (walkthrough 2): the pensions, base and complementary.
    let mut c = Client::embedded();
    let (page, values) = walk_until(&mut c, ID, 2, "pensions", &["pension_base", "pension_complementaire"]).await;
    for (name, value) in [("pension_base_m3", &values[0]), ("pension_compl_m3", &values[1])] {
        let input = page.between(&format!("name=\"{name}\""), ">").unwrap_or_else(|| panic!("no input {name}"));
        assert!(input.contains(&format!("value=\"{value}\"")), "{name}: {input}, expected {value}");
    }

    // The resources to add oneself no longer list gifts.
    let mut c = Client::embedded();
    let (page, _) = walk_until(&mut c, ID, 1, "autres-detail", &[]).await;
    let text = read(&page);
    assert!(!text.contains("Dons ou aides"), "{text}");
    assert!(text.contains("Revenus du patrimoine"), "{text}");
    let (page, _) = walk_until(&mut Client::embedded(), ID, 1, "autres-ressources", &[]).await;
    assert!(!read(&page).contains("dons ou aides en argent"));
}

/// The known trap of the actualisation: "Êtes-vous toujours à la recherche
/// d'un emploi ?" comes last, after the questions answered "Non".
#[tokio::test]
async fn actualisation_asks_still_looking_for_work_last() {
    const ID: &str = "france-travail/actualisation";
    let mut c = Client::embedded();
    let (page, _) = walk_until(&mut c, ID, 0, "travail", &[]).await;
    assert!(!read(&page).contains("toujours à la recherche d'un emploi"));
    let mut c = Client::embedded();
    let (page, _) = walk_until(&mut c, ID, 0, "autres-situations", &[]).await;
    // Each question is a group of radios with its question as legend; the
    // aidant hint above the form may name the last one too.
    let text = read(&page);
    let at = |q: &str| text.find(&format!("{q}</legend>")).unwrap_or_else(|| panic!("no question `{q}` in {text}"));
    let order = [
        at("Avez-vous été en stage ?"),
        at("Avez-vous suivi une formation ?"),
        at("Avez-vous été en arrêt maladie ?"),
        at("Percevez-vous une nouvelle pension de retraite ?"),
        at("Percevez-vous une nouvelle pension d'invalidité ?"),
        at("Êtes-vous toujours à la recherche d'un emploi ?"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // Answering "Non" by habit leads to the warning, which leads back.
    let form = [
        ("stage", "Non"),
        ("formation", "Non"),
        ("maladie", "Non"),
        ("pension", "Non"),
        ("invalidite", "Non"),
        ("toujours_recherche", "Non"),
    ];
    let page = c.post_follow(&format!("/scenarios/{ID}/etape/autres-situations"), &form).await;
    assert!(read(&page).contains("Vous ne recherchez plus d'emploi"), "{}", page.body);
}

/// The upload after the actualisation tells to go back: the page offers a
/// "Précédent", and going back leads to the choice of sending later.
#[tokio::test]
async fn actualisation_upload_has_a_way_back() {
    const ID: &str = "france-travail/actualisation";
    let mut c = Client::embedded();
    let (page, _) = walk_until(&mut c, ID, 0, "envoi", &[]).await;
    assert!(page.body.contains(">Précédent</button>"), "{}", page.body);
    let page = c.post(&format!("/scenarios/{ID}/etape/envoi"), &[("bulletin", "")]).await;
    let text = read(&page);
    assert!(
        text.contains("Ajoutez votre bulletin de salaire, ou cliquez sur « Précédent » pour choisir de l'envoyer plus tard."),
        "{text}"
    );
    assert!(page.body.contains(">Précédent</button>"));
    let page = c.post_follow(&format!("/scenarios/{ID}/precedent"), &[]).await;
    assert!(read(&page).contains("Quand voulez-vous envoyer vos justificatifs ?"), "{}", page.body);
}

/// francetravail.fr: "S'inscrire, se réinscrire", one form for the
/// registration and the allowance request, kept as a draft for 15 days.
#[tokio::test]
async fn inscription_is_one_form_with_the_allowance_request_and_a_draft() {
    const ID: &str = "france-travail/inscription";
    let library = Library::embedded();
    assert_eq!(library.get(ID).unwrap().title, "S'inscrire, se réinscrire");
    let mut c = Client::new(library);
    let (page, _) = walk_until(&mut c, ID, 1, "brouillon", &[]).await;
    assert!(read(&page).contains("15 jours"), "{}", page.body);
    let mut c = Client::embedded();
    let (page, _) = walk_until(&mut c, ID, 0, "dernier-contrat", &[]).await;
    assert!(read(&page).contains("Votre dernier contrat de travail"));
    common::walk::walk_over_http(&mut c, ID, 0).await;
    let doc = c.get(&format!("/scenarios/{ID}/document")).await;
    let text = read(&doc);
    assert!(text.contains("Demande d'allocation"), "{text}");
    assert!(text.contains("Enregistrée"), "{text}");
}

/// The library brings the CAF and France Travail procedures of the issue,
/// each with its happy path and an incident, a refused answer and a
/// forgotten password among its walkthroughs.
#[test]
fn the_new_caf_and_france_travail_procedures_are_bundled() {
    let library = Library::embedded();
    for id in ["caf/prime-activite", "caf/changement-situation", "france-travail/demande-allocation", "france-travail/envoi-documents"] {
        let s = library.get(id).unwrap_or_else(|| panic!("{id} is not bundled"));
        assert_eq!(s.valid_as_of, "2026-12", "{id}");
        assert!(s.sources.iter().any(|src| src.contains("non vérifié")), "{id}: say what is reconstructed");
        assert!(s.tests.len() >= 3, "{id}");
        assert!(s.tests.iter().any(|t| t.name.contains("mot de passe oublié")), "{id}");
        assert!(s.steps.iter().any(|st| st.document.is_some()), "{id}: an accusé de réception");
        // Every step after the first can go back: no page here follows an
        // irreversible validation without being a receipt.
        assert!(s.steps.iter().all(|st| st.back), "{id}");
    }
    let count = |op: &str| library.scenarios.values().filter(|s| s.operator == op).count();
    assert!(count("caf") >= 3);
    assert!(count("france-travail") >= 4);
}
