//! Rehearsals walked over HTTP, through the router: the happy path,
//! validation errors, the incident path, back and "Modifier", reset, new
//! persona, the inbox and the printable document.

mod common;

use axum::http::StatusCode;
use common::{Client, Page, card_value, unescape};

const BASE: &str = "/scenarios/impots/declaration-revenus";

async fn start(c: &mut Client) -> Page {
    let page = c.get(BASE).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Commencer l&#x27;entraînement") || page.body.contains("Commencer l'entraînement"));
    c.post_follow(&format!("{BASE}/commencer"), &[]).await
}

/// The numéro fiscal and password, read from the persona card as a person would.
async fn credentials(c: &mut Client) -> (String, String) {
    let card = c.get(&format!("{BASE}/fiche")).await;
    assert_eq!(card.status, StatusCode::OK);
    let nf = card_value(&card, "Numéro fiscal").replace(' ', "");
    let password = card_value(&card, "Mot de passe");
    assert_eq!(nf.len(), 13, "{}", card.body);
    (nf, password)
}

async fn login(c: &mut Client) -> Page {
    let (nf, password) = credentials(c).await;
    c.post_follow(&format!("{BASE}/etape/connexion"), &[("numero_fiscal", &nf), ("mot_de_passe", &password)]).await
}

/// Reads the last code from the inbox, as a person would.
async fn code_from_inbox(c: &mut Client) -> String {
    let inbox = c.get(&format!("{BASE}/messagerie")).await;
    assert!(inbox.body.contains("Votre code de sécurité"), "{}", inbox.body);
    let message = c.get(&format!("{BASE}/messagerie/0")).await;
    message.between("<strong class=\"code\">", "</strong>").expect("a code")
}

async fn reach_review(c: &mut Client) -> Page {
    start(c).await;
    let page = login(c).await;
    assert!(page.body.contains("Saisissez votre code de sécurité"));
    let code = code_from_inbox(c).await;
    let page = c.post_follow(&format!("{BASE}/etape/code-securite"), &[("code", &code)]).await;
    assert!(page.title().contains("Bonjour"), "{}", page.title());
    let page = c.post_follow(&format!("{BASE}/etape/accueil"), &[]).await;
    assert!(page.body.contains("Vérifiez vos informations personnelles"));
    let email = page.between("name=\"courriel\" value=\"", "\"").map(|v| unescape(&v)).unwrap();
    // Declared as single: a couple would go through "Déclarant 2".
    let page = c
        .post_follow(
            &format!("{BASE}/etape/informations"),
            &[("situation", "celibataire"), ("adresse_identique", "oui"), ("courriel", &email)],
        )
        .await;
    assert!(page.body.contains("Revenus et charges"), "{}", page.body);
    let page = c.post_follow(&format!("{BASE}/etape/rubriques"), &[("rubriques", "salaires")]).await;
    assert!(page.body.contains("Traitements, salaires, pensions et rentes"), "{}", page.body);
    c.post_follow(&format!("{BASE}/etape/revenus"), &[("1AJ", "24000")]).await
}

#[tokio::test]
async fn happy_path_to_the_receipt_and_its_document() {
    let mut c = Client::embedded();
    let catalogue = c.get("/").await;
    assert!(catalogue.body.contains("Déclarer ses revenus en ligne"));
    let review = reach_review(&mut c).await;
    assert!(review.body.contains("Récapitulatif de votre déclaration"));
    assert!(review.body.contains("24\u{202f}000 €"));
    // The persona is random: the estimate depends on its children.
    assert!(review.body.contains("Estimation de votre impôt"));
    let page = c.post_follow(&format!("{BASE}/etape/recapitulatif"), &[]).await;
    assert!(page.body.contains("Signez votre déclaration"));
    let page = c.post_follow(&format!("{BASE}/etape/signature"), &[("certifie", "on")]).await;
    assert!(page.body.contains("Votre déclaration a bien été envoyée"));
    assert!(page.body.contains("Accusé de réception de la déclaration de revenus"));
    let doc = c.get(&format!("{BASE}/document")).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body.contains("SPÉCIMEN — sans valeur"));
    assert!(doc.body.contains("Déclarer ses revenus en ligne : votre demande a bien été enregistrée"));
    let inbox = c.get(&format!("{BASE}/messagerie")).await;
    assert!(inbox.body.contains("Accusé de réception de votre déclaration de revenus"));
}

#[tokio::test]
async fn validation_errors_show_a_summary_linking_to_each_field() {
    let mut c = Client::embedded();
    reach_review(&mut c).await;
    c.post_follow(&format!("{BASE}/precedent"), &[]).await;
    let page = c.post(&format!("{BASE}/etape/revenus"), &[("1AJ", "beaucoup")]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.title().starts_with("[Simulation] Erreur : "), "{}", page.title());
    assert!(page.body.contains("class=\"error-summary\" role=\"alert\""));
    assert!(
        unescape(&page.body).contains(
            "<a href=\"#champ-1AJ\">Salaires, déclarant 1 (case 1AJ) : Le montant doit être un nombre entier d'euros, sans centimes.</a>"
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"beaucoup\""));
    assert!(page.body.contains("aria-invalid=\"true\""));
}

#[tokio::test]
async fn three_wrong_passwords_lead_to_the_locked_account_page() {
    let mut c = Client::embedded();
    start(&mut c).await;
    let (nf, _) = credentials(&mut c).await;
    let path = format!("{BASE}/etape/connexion");
    let first = c.post(&path, &[("numero_fiscal", &nf), ("mot_de_passe", "Mauvais-1")]).await;
    assert!(unescape(&first.body).contains("Il vous reste 2 essais avant le blocage de votre espace."));
    c.post(&path, &[("numero_fiscal", &nf), ("mot_de_passe", "Mauvais-1")]).await;
    let page = c.post_follow(&path, &[("numero_fiscal", &nf), ("mot_de_passe", "Mauvais-1")]).await;
    assert!(page.body.contains("Votre espace est temporairement bloqué"));
    assert!(page.body.contains("Que faire ?"));
}

#[tokio::test]
async fn back_and_modifier_from_the_review() {
    let mut c = Client::embedded();
    reach_review(&mut c).await;
    let page = c.post_follow(&format!("{BASE}/modifier/revenus"), &[]).await;
    assert!(page.body.contains("value=\"24000\""));
    assert!(page.body.contains("Annuler la modification"));
    let page = c.post_follow(&format!("{BASE}/etape/revenus"), &[("1AJ", "30000")]).await;
    assert!(page.body.contains("Récapitulatif de votre déclaration"));
    assert!(page.body.contains("30\u{202f}000 €"));
    let page = c.post_follow(&format!("{BASE}/precedent"), &[]).await;
    assert!(page.body.contains("Traitements, salaires"));
    let page = c.post_follow(&format!("{BASE}/precedent"), &[]).await;
    assert!(page.body.contains("Cochez les rubriques"));
    let page = c.post_follow(&format!("{BASE}/precedent"), &[]).await;
    assert!(page.body.contains("Vérifiez vos informations personnelles"));
}

#[tokio::test]
async fn reset_and_new_persona_are_behind_a_confirmation() {
    let mut c = Client::embedded();
    reach_review(&mut c).await;
    let seed = c.get(&format!("{BASE}/fiche")).await.between("Personnage n° ", " ").unwrap();
    let confirm = c.get(&format!("{BASE}/recommencer")).await;
    assert!(confirm.body.contains("Recommencer l&#x27;entraînement ?") || confirm.body.contains("Recommencer l'entraînement ?"));
    // The confirmation page itself changes nothing.
    assert!(c.get_follow(&format!("{BASE}/etape")).await.body.contains("Récapitulatif"));
    let page = c.post_follow(&format!("{BASE}/recommencer"), &[]).await;
    assert!(page.body.contains("Connexion à votre espace Finances publiques"));
    assert!(page.body.contains("recommence au début, avec la même personne"));
    assert_eq!(c.get(&format!("{BASE}/fiche")).await.between("Personnage n° ", " ").unwrap(), seed);
    let page = c.post_follow(&format!("{BASE}/nouvelle-personne"), &[]).await;
    assert!(page.body.contains("Une nouvelle personne vous est attribuée"));
    assert_ne!(c.get(&format!("{BASE}/fiche")).await.between("Personnage n° ", " ").unwrap(), seed);
}

#[tokio::test]
async fn the_inbox_marks_messages_read_and_time_can_pass() {
    let mut c = Client::embedded();
    start(&mut c).await;
    login(&mut c).await;
    let step = c.get(&format!("{BASE}/etape/code-securite")).await;
    assert!(step.body.contains("class=\"badge\">1"), "one unread message");
    let inbox = c.get(&format!("{BASE}/messagerie")).await;
    assert!(inbox.body.contains("<strong>non lu</strong>"));
    let code = code_from_inbox(&mut c).await;
    let inbox = c.get(&format!("{BASE}/messagerie")).await;
    assert!(!inbox.body.contains("<strong>non lu</strong>"));
    let page = c.post_follow(&format!("{BASE}/horloge"), &[("minutes", "60")]).await;
    assert!(page.body.contains("Le temps a passé : 1 heure de plus."));
    assert!(page.body.contains("expiré"));
    let page = c.post_follow(&format!("{BASE}/etape/code-securite"), &[("code", &code)]).await;
    assert!(page.body.contains("Le code de sécurité a expiré"));
}

#[tokio::test]
async fn a_stale_form_does_not_move_the_rehearsal() {
    let mut c = Client::embedded();
    reach_review(&mut c).await;
    // Submitting a page already left (a second tab, a double click).
    let page = c.post_follow(&format!("{BASE}/etape/revenus"), &[("1AJ", "1")]).await;
    assert!(page.body.contains("Cette page avait déjà été validée"));
    assert!(page.body.contains("24\u{202f}000 €"));
    // Asking for a step by address leads to the current one.
    let page = c.get(&format!("{BASE}/etape/signature")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), format!("{BASE}/etape/recapitulatif"));
}

#[tokio::test]
async fn hints_can_be_hidden_and_shown() {
    let mut c = Client::embedded();
    let page = start(&mut c).await;
    assert!(page.body.contains("Conseil pour l&#x27;aidant") || page.body.contains("Conseil pour l'aidant"));
    let here = format!("{BASE}/etape/connexion");
    let page = c.post_follow("/indices", &[("retour", &here)]).await;
    assert!(!page.body.contains("Conseil pour l"));
    assert!(page.body.contains("Afficher l&#x27;aide pour l&#x27;aidant") || page.body.contains("Afficher l'aide"));
    // Never an open redirect.
    let away = c.post("/indices", &[("retour", "//evil.example/")]).await;
    assert_eq!(away.location(), "/");
}

/// Step pages are kept for reloads (`--page-cache-mb`): a reload gives the
/// same bytes, and whatever changes the page shows at once.
#[tokio::test]
async fn a_reload_is_the_same_page_and_every_change_shows_at_once() {
    let mut c = Client::embedded();
    start(&mut c).await;
    login(&mut c).await;
    let url = format!("{BASE}/etape/code-securite");
    let first = c.get(&url).await;
    assert_eq!(c.get(&url).await.body, first.body, "a reload");
    assert!(first.body.contains("class=\"badge\">1"), "one unread message");
    // Reading the message (another page) takes the badge off this one.
    code_from_inbox(&mut c).await;
    let read = c.get(&url).await;
    assert!(!read.body.contains("class=\"badge\""), "{}", read.body);
    // The session's settings.
    c.post("/indices", &[("retour", &url)]).await;
    let hidden = c.get(&url).await;
    assert!(read.body.contains("Conseil pour l") && !hidden.body.contains("Conseil pour l"));
    // A one-time notice shows once, then the page without it.
    let noticed = c.post_follow(&format!("{BASE}/horloge"), &[("minutes", "60")]).await;
    assert!(noticed.body.contains("Le temps a passé : 1 heure de plus."));
    let after = c.get(&url).await;
    assert!(!after.body.contains("Le temps a passé"), "{}", after.body);
    // Form errors are never kept.
    let refused = c.post(&url, &[("code", "")]).await;
    assert!(refused.body.contains("error-summary"));
    let reload = c.get(&url).await;
    assert!(!reload.body.contains("error-summary"), "{}", reload.body);
}

/// A message opened from another site (a link in a mail, a page that
/// navigates here) is shown but not marked read: only a visit from this
/// site's own pages, or typed in the address bar, changes the inbox.
#[tokio::test]
async fn a_message_opened_from_another_site_stays_unread() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let mut c = Client::embedded();
    start(&mut c).await;
    login(&mut c).await;
    let unread = |page: &Page| page.body.contains("<strong>non lu</strong>");
    let from = |site: Option<&str>, referer: Option<&str>| {
        let mut request = Request::get(format!("{BASE}/messagerie/0")).header(header::HOST, "miroir.example.org");
        if let Some(s) = site {
            request = request.header("sec-fetch-site", s);
        }
        if let Some(r) = referer {
            request = request.header(header::REFERER, r);
        }
        request.body(Body::empty()).unwrap()
    };
    for (site, referer) in [
        (Some("cross-site"), None),
        (Some("same-site"), None),
        (Some("cross-site"), Some("http://miroir.example.org/")),
        (None, None),
        (None, Some("https://evil.example/")),
    ] {
        let message = c.send(from(site, referer)).await;
        assert_eq!(message.status, StatusCode::OK, "{site:?} {referer:?}");
        assert!(message.body.contains("<strong class=\"code\">"), "the message is shown");
        assert!(unread(&c.get(&format!("{BASE}/messagerie")).await), "{site:?} {referer:?}: marked read");
    }
    // An older browser coming from this site's own page says so in its Referer.
    c.send(from(None, Some(&format!("http://miroir.example.org{BASE}/messagerie")))).await;
    assert!(!unread(&c.get(&format!("{BASE}/messagerie")).await));
}
