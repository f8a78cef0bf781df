//! Real-looking identifiers typed on the bundled sites, over HTTP: a NIR
//! (with or without its key), a numéro fiscal, an IBAN, a phone number or
//! an e-mail address that is neither the persona's nor in a fictitious
//! range is refused with the one message, and never shown back.

mod common;

use axum::http::StatusCode;
use common::{Client, Page, unescape};
use miroir::testing::walkthrough;
use miroir::testing::web::clock::now;

const REAL_DATA: &str = "N'utilisez pas de vraies données : reprenez celles de la fiche personnage.";

/// Starts scenario `id` and brings the rehearsal to the step whose id ends
/// with `step`; returns the step's address.
async fn at_step(c: &mut Client, id: &str, step: &str) -> String {
    let loaded = c.state.loaded();
    let s = loaded.library.get(id).unwrap().clone();
    let step = s.steps.iter().find(|x| x.id == step || x.id.ends_with(&format!("/{step}"))).unwrap().id.clone();
    c.post_follow(&format!("/scenarios/{id}/commencer"), &[]).await;
    let sid = uuid::Uuid::parse_str(c.cookie.as_deref().unwrap().trim_start_matches("miroir=")).unwrap();
    let store = c.state.store.clone();
    let mut session = std::sync::Arc::unwrap_or_clone(store.load(sid).await.unwrap().unwrap());
    let seed = session.rehearsals[&s.id].seed;
    let mut r = walkthrough::reach(&s, seed, &step).unwrap_or_else(|| panic!("{id}: step {step} not reached"));
    r.restart_clock(now());
    session.put(r);
    store.save(sid, session.into()).await.unwrap();
    format!("/scenarios/{id}/etape/{step}")
}

/// Posts `form` at `step` of `id` and checks the refusal: the message, and
/// no trace of any of `shown` on the page.
async fn refused(id: &str, step: &str, form: &[(&str, &str)], shown: &[&str]) -> Page {
    let mut c = Client::embedded();
    let url = at_step(&mut c, id, step).await;
    let page = c.post(&url, form).await;
    assert_eq!(page.status, StatusCode::OK, "{id}: {}", page.body);
    let body = unescape(&page.body);
    assert!(body.contains(REAL_DATA), "{id}, {step}: no refusal in\n{body}");
    for s in shown {
        assert!(!body.contains(s), "{id}, {step}: `{s}` is shown back");
    }
    page
}

#[tokio::test]
async fn a_real_looking_13_digit_nir_is_refused_on_the_caf_and_ameli_logins() {
    // The 13 first characters of a NIR published as an example.
    for id in ["caf/declaration-trimestrielle", "ameli/attestation-droits"] {
        refused(id, "connexion", &[("nir", "2 55 08 14 168 025"), ("mot_de_passe", "x")], &["2550814168025", "2 55 08 14 168 025"]).await;
    }
    refused(
        "impots/se-connecter",
        "fc-ameli",
        &[("fc_nir", "2550814168025"), ("fc_mdp_ameli", "x")],
        &["2550814168025", "2 55 08 14 168 025"],
    )
    .await;
}

#[tokio::test]
async fn a_real_looking_nir_with_its_key_is_refused_and_a_mistyped_one_not_shown() {
    refused("caf/declaration-trimestrielle", "connexion", &[("nir", "255081416802538"), ("mot_de_passe", "x")], &["255081416802538"]).await;
    // A real-looking one with a wrong key: wrong, and still not shown back.
    let mut c = Client::embedded();
    let url = at_step(&mut c, "caf/declaration-trimestrielle", "connexion").await;
    let page = c.post(&url, &[("nir", "255081416802539"), ("mot_de_passe", "x")]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("255081416802539"));
}

#[tokio::test]
async fn a_real_looking_numero_fiscal_is_refused_on_the_impots_logins() {
    let first10 = "1234567890";
    let real = format!("{first10}{}", miroir::testing::persona::ids::numero_fiscal_key(first10).unwrap());
    assert!(miroir::testing::persona::ids::numero_fiscal_valid(&real));
    for id in ["impots/se-connecter", "impots/declaration-revenus"] {
        refused(id, "connexion", &[("numero_fiscal", &real), ("mot_de_passe", "x")], &[&real]).await;
    }
}

#[tokio::test]
async fn a_real_e_mail_address_is_refused_where_one_is_asked() {
    let real = "jean.dupont@gmail.com";
    refused("ants/pre-demande-cni", "connexion", &[("identifiant", real), ("mot_de_passe", "x")], &[real]).await;
    refused("france-travail/inscription", "creation-espace", &[("courriel", real)], &[real]).await;
}

#[tokio::test]
async fn a_real_phone_number_is_refused_and_the_persona_s_is_not() {
    refused("welcome/creer-adresse-email", "telephone", &[("telephone_recuperation", "06 12 34 56 78")], &["06 12 34 56 78", "0612345678"])
        .await;
    // Another fictitious number is only wrong, not real data.
    let mut c = Client::embedded();
    let url = at_step(&mut c, "welcome/creer-adresse-email", "telephone").await;
    let page = c.post(&url, &[("telephone_recuperation", "06 39 98 00 00")]).await;
    let body = unescape(&page.body);
    assert!(!body.contains(REAL_DATA) && body.contains("Pour l'entraînement, utilisez le numéro de la fiche personnage."), "{body}");
}

#[tokio::test]
async fn a_real_iban_is_refused() {
    let real = "FR14 2004 1010 0505 0001 3M02 606";
    let mut c = Client::embedded();
    let url = at_step(&mut c, "france-travail/inscription", "rib").await;
    let page = c.get(&url.replace("/etape/rib", "/etape")).await;
    assert!(page.status == StatusCode::OK || page.status == StatusCode::SEE_OTHER);
    let loaded = c.state.loaded();
    let s = loaded.library.get("france-travail/inscription").unwrap();
    let field =
        s.steps.iter().find(|x| x.id == "rib").unwrap().fields.iter().find(|f| f.kind == miroir::testing::field::FieldType::Iban).unwrap();
    let page = c.post(&url, &[(field.name.as_str(), real)]).await;
    let body = unescape(&page.body);
    assert!(body.contains(REAL_DATA), "{body}");
    assert!(!body.contains(real) && !body.contains("FR1420041010050500013M02606"));
}
