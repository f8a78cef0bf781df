//! Conditional fields, repeatable groups and conditional messages, walked
//! over HTTP through the router with the CAF "demande d'aide au logement":
//! colocataires added, changed and removed (with a status message each
//! time), a list that refuses to go on below its `min`, the récapitulatif
//! that shows every item with its own "Modifier", hidden fields that are
//! neither required nor kept, the login choice kept off the récapitulatif,
//! and an SMS sent only when asked for.

mod common;

use axum::http::StatusCode;
use common::{Client, Page};
use miroir::testing::rehearsal::Rehearsal;
use miroir::testing::walkthrough;
use miroir::testing::web::clock::now;

const ID: &str = "caf/demande-aide-logement";
const BASE: &str = "/scenarios/caf/demande-aide-logement";

fn sid(c: &Client) -> uuid::Uuid {
    uuid::Uuid::parse_str(c.cookie.as_deref().unwrap().trim_start_matches("miroir=")).unwrap()
}

async fn rehearsal(c: &Client) -> Rehearsal {
    c.state.store.load(sid(c)).await.unwrap().unwrap().rehearsals[ID].clone()
}

/// Starts a rehearsal playing the persona of walkthrough `test` (its traits
/// pinned: 0 married with two children, 1 single without children).
async fn start_as(c: &mut Client, test: usize) {
    let page = c.post_follow(&format!("{BASE}/commencer"), &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let s = c.state.loaded().library.get(ID).unwrap().clone();
    let mut session = std::sync::Arc::unwrap_or_clone(c.state.store.load(sid(c)).await.unwrap().unwrap());
    session.put(walkthrough::start(&s, test, now()));
    c.state.store.save(sid(c), session.into()).await.unwrap();
}

async fn step(c: &mut Client, id: &str, form: &[(&str, &str)]) -> Page {
    c.post_follow(&format!("{BASE}/etape/{id}"), form).await
}

/// Logs in and answers up to the dwelling's rent, for a dwelling of `kind`.
async fn up_to_the_rent(c: &mut Client, en_couple: &str, kind: &str) -> Page {
    let r = rehearsal(c).await;
    let s = c.state.loaded().library.get(ID).unwrap().clone();
    let p = r.persona(&s, now());
    step(c, "connexion-choix", &[("acces", "connexion")]).await;
    step(c, "connexion", &[("nir", &p.text("nir_sans_cle")), ("mot_de_passe", &p.text("mot_de_passe"))]).await;
    step(c, "accueil", &[("demarche", "logement")]).await;
    step(c, "presentation", &[]).await;
    step(c, "situation", &[("en_couple", en_couple)]).await;
    let page = step(c, "type-logement", &[("type_logement", kind)]).await;
    assert!(page.body.contains("Date d&#x27;entrée dans le logement") || page.body.contains("Date d'entrée"), "{}", page.body);
    let address = |k: &str| p.path(&format!("adresse.{k}")).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let (line, postcode, town) = (address("ligne"), address("code_postal"), address("commune"));
    step(
        c,
        "logement",
        &[
            ("adresse", &line),
            ("code_postal", &postcode),
            ("commune", &town),
            ("date_entree", &p.text("date_entree")),
            ("meuble", "non"),
            ("logement_famille", "non"),
        ],
    )
    .await;
    step(c, "bailleur", &[("bailleur_type", "particulier"), ("bailleur_nom", &p.text("bailleur_nom"))]).await;
    step(c, "loyer", &[("loyer", &p.text("loyer")), ("charges", "40")]).await
}

fn list(action: &str) -> [(&str, &str); 1] {
    [("_list", action)]
}

#[tokio::test]
async fn colocataires_are_added_changed_removed_and_shown_on_the_recapitulatif() {
    let mut c = Client::embedded();
    start_as(&mut c, 1).await;
    let page = up_to_the_rent(&mut c, "non", "colocation").await;
    assert!(page.body.contains("<h1>Vos colocataires</h1>"), "{}", page.body);
    assert!(page.body.contains("Aucun élément ajouté pour l'instant."), "{}", page.body);
    assert!(page.body.contains("id=\"ajouter-colocataires\">Ajouter un colocataire</button>"));
    assert!(!page.body.contains("Précédent") || page.body.contains("back-form"));

    // Below the list's `min`: refused, with a summary that leads to the add button.
    let refused = c.post(&format!("{BASE}/etape/colocataires"), &list("continuer")).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(refused.body.contains("Vous êtes en colocation : ajoutez au moins un colocataire."), "{}", refused.body);
    assert!(refused.body.contains("href=\"#ajouter-colocataires\""));

    // "Ajouter": the item's form, in a fieldset with a numbered legend.
    let form = c.post_follow(&format!("{BASE}/etape/colocataires"), &list("ajouter")).await;
    assert!(form.body.contains("<legend class=\"list-item-legend\">Colocataire 1</legend>"), "{}", form.body);
    assert!(form.body.contains("name=\"prenom\""));
    assert!(!form.body.contains("class=\"back-form\""), "the item form has its own « Annuler »");
    // Each item is checked like a form.
    let refused = c.post(&format!("{BASE}/etape/colocataires"), &[("nom", "Moreau"), ("_list", "enregistrer")]).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(refused.body.contains("Colocataire 1"));
    assert!(refused.body.contains("Veuillez renseigner ce champ."), "{}", refused.body);
    let page = c
        .post_follow(
            &format!("{BASE}/etape/colocataires"),
            &[("prenom", "Inès"), ("nom", "Moreau"), ("bail_commun", "oui"), ("_list", "enregistrer")],
        )
        .await;
    // A status message, focused, says what happened.
    assert!(
        page.body
            .contains("<div class=\"notice\" role=\"status\" tabindex=\"-1\" autofocus><p>Vous avez ajouté : Colocataire 1.</p></div>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<h2 class=\"list-item-title\" id=\"element-1\">Colocataire 1</h2>"));
    c.post_follow(&format!("{BASE}/etape/colocataires"), &list("ajouter")).await;
    let page = c
        .post_follow(
            &format!("{BASE}/etape/colocataires"),
            &[("prenom", "Hugo"), ("nom", "Petit"), ("bail_commun", "non"), ("_list", "enregistrer")],
        )
        .await;
    assert!(page.body.contains("Vous avez ajouté : Colocataire 2."));
    assert!(page.body.contains("2 sur 8 au maximum, au moins 1."), "{}", page.body);

    // "Modifier" opens the item filled in; "Supprimer" takes it out.
    let form = c.post_follow(&format!("{BASE}/etape/colocataires"), &list("modifier-1")).await;
    assert!(form.body.contains("Colocataire 1 (modification)"), "{}", form.body);
    assert!(form.body.contains("value=\"Moreau\""), "{}", form.body);
    let page = c
        .post_follow(
            &format!("{BASE}/etape/colocataires"),
            &[("prenom", "Inès"), ("nom", "Moreau-Lefort"), ("bail_commun", "oui"), ("_list", "enregistrer")],
        )
        .await;
    assert!(page.body.contains("Vous avez modifié : Colocataire 1."));
    assert!(page.body.contains("Moreau-Lefort"));
    let page = c.post_follow(&format!("{BASE}/etape/colocataires"), &list("supprimer-2")).await;
    assert!(page.body.contains("Vous avez supprimé : Colocataire 2."), "{}", page.body);
    assert!(!page.body.contains("Hugo"));
    // "Annuler" leaves the list as it was.
    c.post_follow(&format!("{BASE}/etape/colocataires"), &list("ajouter")).await;
    let page = c.post_follow(&format!("{BASE}/etape/colocataires"), &list("annuler")).await;
    assert!(page.body.contains("1 sur 8 au maximum"), "{}", page.body);

    // A single person: the spouse's fields are not shown, not required, and
    // a value posted for one anyway is not kept.
    let page = c.post_follow(&format!("{BASE}/etape/colocataires"), &list("continuer")).await;
    assert!(page.body.contains("Les personnes de votre foyer"), "{}", page.body);
    assert!(!page.body.contains("conjoint_prenom"));
    let page = step(&mut c, "foyer", &[("conjoint_prenom", "Paul")]).await;
    assert!(page.body.contains("Les enfants qui vivent avec vous"));
    assert!(!rehearsal(&c).await.answers.contains_key("conjoint_prenom"));
    step(&mut c, "enfants", &list("continuer")).await;
    let r = rehearsal(&c).await;
    let s = c.state.loaded().library.get(ID).unwrap().clone();
    let p = r.persona(&s, now());
    let page = step(&mut c, "ressources", &[("salaires", "12000"), ("autres_ressources", "non")]).await;
    assert!(!rehearsal(&c).await.answers.contains_key("salaires_conjoint"));
    assert!(page.body.contains("Vos coordonnées bancaires"));
    let review = step(&mut c, "coordonnees-bancaires", &[("iban", &p.text("iban"))]).await;

    // The récapitulatif: every item with its own "Modifier"; no hidden
    // field, no navigation-only choice.
    assert!(review.body.contains("<h1>Vérifiez votre demande</h1>"), "{}", review.body);
    assert!(review.body.contains("<h3 id=\"bloc-colocataires-1\">Colocataire 1</h3>"), "{}", review.body);
    assert!(review.body.contains("<input type=\"hidden\" name=\"element\" value=\"1\">"));
    assert!(review.body.contains("Moreau-Lefort"));
    assert!(!review.body.contains("Colocataire 2"));
    assert!(!review.body.contains("Salaires de votre conjoint"));
    assert!(!review.body.contains("Prénom du conjoint"));
    assert!(!review.body.contains("Comment voulez-vous continuer"), "the login choice is not an answer to review");
    assert!(!review.body.contains("Que souhaitez-vous faire"));
    assert!(review.body.contains("Le logement est-il loué meublé"));

    // "Modifier" on one item: its form, then straight back to the récapitulatif.
    let form = c.post_follow(&format!("{BASE}/modifier/colocataires"), &[("element", "1")]).await;
    assert!(form.body.contains("Colocataire 1 (modification)"), "{}", form.body);
    let review = c
        .post_follow(
            &format!("{BASE}/etape/colocataires"),
            &[("prenom", "Inès"), ("nom", "Lefort"), ("bail_commun", "oui"), ("_list", "enregistrer")],
        )
        .await;
    assert!(review.body.contains("<h1>Vérifiez votre demande</h1>"), "{}", review.body);
    assert!(review.body.contains("Lefort") && !review.body.contains("Moreau-Lefort"));
    // An item that does not exist cannot be changed.
    let page = c.post_follow(&format!("{BASE}/modifier/colocataires"), &[("element", "7")]).await;
    assert!(page.body.contains("Cette réponse ne peut pas être modifiée depuis cette page."));

    // No SMS alert asked for: the conditional SMS is not sent.
    step(&mut c, "recapitulatif", &[]).await;
    let receipt = step(&mut c, "validation", &[("certifie", "on")]).await;
    assert!(receipt.body.contains("Votre demande d&#x27;aide au logement a bien été enregistrée"), "{}", receipt.body);
    let r = rehearsal(&c).await;
    assert_eq!(r.inbox.len(), 1, "only the e-mail");
    let inbox = c.get(&format!("{BASE}/messagerie")).await;
    assert!(!inbox.body.contains("<span class=\"inbox-channel\">SMS</span>"), "{}", inbox.body);
    // The accusé de réception lists the items.
    let doc = c.get(&format!("{BASE}/document")).await;
    assert!(doc.body.contains("Vos colocataires (1)"), "{}", doc.body);
    assert!(doc.body.contains("Inès Lefort, sur le même bail"), "{}", doc.body);
}

#[tokio::test]
async fn a_hidden_answer_is_dropped_and_the_sms_is_sent_when_asked_for() {
    let mut c = Client::embedded();
    start_as(&mut c, 0).await;
    up_to_the_rent(&mut c, "marie", "location").await;
    let s = c.state.loaded().library.get(ID).unwrap().clone();
    let p = rehearsal(&c).await.persona(&s, now());
    // Married: the spouse's fields show, and are required.
    let page = c.get(&format!("{BASE}/etape/foyer")).await;
    assert!(page.body.contains("Prénom du conjoint"), "{}", page.body);
    let refused = c.post(&format!("{BASE}/etape/foyer"), &[]).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(refused.body.contains("Il y a 3 erreurs dans le formulaire"), "{}", refused.body);
    let conjoint = p.get("conjoint").unwrap().clone();
    let page = step(
        &mut c,
        "foyer",
        &[
            ("conjoint_prenom", conjoint["prenom"].as_str().unwrap()),
            ("conjoint_nom", conjoint["nom"].as_str().unwrap()),
            ("conjoint_naissance", conjoint["date_naissance"].as_str().unwrap()),
        ],
    )
    .await;
    // The children of the persona start the list; one more is added.
    let first_child = p.get("enfants").unwrap()[0]["prenom"].as_str().unwrap().to_owned();
    assert!(page.body.contains(&first_child), "{}", page.body);
    assert!(page.body.contains("Enfant 2</h2>"));
    c.post_follow(&format!("{BASE}/etape/enfants"), &list("ajouter")).await;
    let page = c
        .post_follow(
            &format!("{BASE}/etape/enfants"),
            &[("prenom", "Jade"), ("nom", "Essai"), ("date_naissance", "12/05/2026"), ("_list", "enregistrer")],
        )
        .await;
    assert!(page.body.contains("Vous avez ajouté : Enfant 3."), "{}", page.body);
    c.post_follow(&format!("{BASE}/etape/enfants"), &list("continuer")).await;
    step(&mut c, "ressources", &[("salaires", "12000"), ("salaires_conjoint", "9000"), ("autres_ressources", "non")]).await;
    let review = step(&mut c, "coordonnees-bancaires", &[("iban", &p.text("iban"))]).await;
    assert!(review.body.contains("Prénom du conjoint"));
    assert!(review.body.contains("Enfant 3"));
    assert!(rehearsal(&c).await.answers.contains_key("salaires_conjoint"));

    // Changed to "single" from the récapitulatif: the spouse's answers,
    // hidden now, are dropped, and the récapitulatif no longer shows them.
    c.post_follow(&format!("{BASE}/modifier/situation"), &[]).await;
    let review = step(&mut c, "situation", &[("en_couple", "non")]).await;
    assert!(review.body.contains("<h1>Vérifiez votre demande</h1>"), "{}", review.body);
    let r = rehearsal(&c).await;
    assert!(!r.answers.contains_key("conjoint_prenom"), "{:?}", r.answers);
    assert!(!r.answers.contains_key("salaires_conjoint"), "{:?}", r.answers);
    assert!(!review.body.contains("Prénom du conjoint"));
    assert!(!review.body.contains("Salaires de votre conjoint"));

    step(&mut c, "recapitulatif", &[]).await;
    step(&mut c, "validation", &[("alerte_sms", "on"), ("certifie", "on")]).await;
    let r = rehearsal(&c).await;
    assert_eq!(r.inbox.len(), 2, "the e-mail and the SMS asked for");
    let sms = c.get(&format!("{BASE}/messagerie/1")).await;
    assert!(sms.body.contains("Vous serez prévenu(e) par SMS"), "{}", sms.body);
}

#[tokio::test]
async fn a_widowers_card_shows_no_spouse_salary() {
    let mut c = Client::embedded();
    let s = c.state.loaded().library.get("caf/declaration-trimestrielle").unwrap().clone();
    // Seeds until one of each: a persona with a spouse, one without.
    let (mut with, mut without) = (None, None);
    for seed in 1..200u64 {
        let p = s.persona_of(seed, None);
        match p.get("conjoint").is_some_and(|c| c.is_object()) {
            true if with.is_none() => with = Some(seed),
            false if without.is_none() => without = Some(seed),
            _ => {}
        }
    }
    for (seed, shown) in [(with.unwrap(), true), (without.unwrap(), false)] {
        let card = c.get(&format!("/scenarios/caf/declaration-trimestrielle/fiche-personnage?graine={seed}")).await;
        assert_eq!(card.status, StatusCode::OK, "{}", card.body);
        assert_eq!(card.body.contains("Salaire du conjoint"), shown, "seed {seed}: {}", card.body);
        assert!(card.body.contains("Salaire net social, il y a 4 mois"));
    }
}

#[tokio::test]
async fn every_walkthrough_of_the_scenario_passes_over_http() {
    let mut c = Client::embedded();
    let count = c.state.loaded().library.get(ID).unwrap().tests.len();
    assert!(count >= 6);
    for test in 0..count {
        let mut c2 = Client::embedded();
        common::walk::walk_over_http(&mut c2, ID, test).await;
    }
    // The handout writes every item added, and how to add it.
    let page = c.get(&format!("{BASE}/fiche-pas-a-pas")).await;
    assert_eq!(page.status, StatusCode::OK);
}
