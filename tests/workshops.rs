//! Workshops over HTTP: opening, joining and leaving, the rate limit on
//! codes, the live dashboard, reset and move for everyone, ending, expiry,
//! handouts, and thirty learners at once.

mod common;
#[path = "common/raw.rs"]
mod raw;

use axum::http::StatusCode;
use common::feed::Feed;
use common::{Client, Page, card_value};
use miroir::testing::library::Library;
use miroir::testing::session::MemoryStore;
use miroir::testing::web::server::Limits;
use miroir::testing::web::{self, AppState, Config, Shared};
use std::sync::Arc;
use std::time::Duration;

const SCENARIO: &str = "impots/declaration-revenus";

fn state_with(config: Config) -> Shared {
    AppState::new(Library::embedded(), Arc::new(MemoryStore::default()), config)
}

/// Serves `state` on a free loopback port, with the real accept loop, until
/// the sender is used.
async fn serve_in_process(
    state: &Shared,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve_on(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

/// Opens a dashboard's live stream, once its head says it is one.
async fn open_stream(addr: std::net::SocketAddr, token: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("GET /atelier/animation/{token}/flux HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await.unwrap();
    let mut head = [0u8; 512];
    let n = stream.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).contains("text/event-stream"));
    stream
}

/// Opens a workshop on the impots scenario; returns (trainer client, token, code).
async fn open(state: &Shared, shared_persona: bool) -> (Client, String, String) {
    let mut trainer = Client::with_state(state.clone());
    let mode = if shared_persona { "meme" } else { "chacun" };
    let reply = trainer.post("/atelier/nouveau", &[("nom", "Mardi matin"), ("scenarios", SCENARIO), ("personne", mode)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let token = reply.location().trim_start_matches("/atelier/animation/").to_owned();
    let dashboard = trainer.get(&reply.location()).await;
    let code = dashboard.between("<strong class=\"join-code\">", "</strong>").unwrap();
    (trainer, token, code)
}

async fn join(state: &Shared, code: &str, pseudonym: &str) -> Client {
    let mut learner = Client::with_state(state.clone());
    let reply = learner.post("/atelier/rejoindre", &[("code", code), ("pseudonyme", pseudonym)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), format!("/scenarios/{SCENARIO}/etape"));
    learner
}

fn session_of(c: &Client) -> uuid::Uuid {
    uuid::Uuid::parse_str(c.cookie.as_deref().unwrap().trim_start_matches("miroir=")).unwrap()
}

async fn rehearsal_step(state: &Shared, c: &Client) -> Option<String> {
    let session = state.store.load(session_of(c)).await.unwrap()?;
    let r = session.rehearsals.get(SCENARIO)?;
    let loaded = state.loaded();
    Some(r.current(loaded.library.get(SCENARIO).unwrap()).id.clone())
}

/// Logs a learner in, as they would: reading the card, then the inbox.
async fn log_in(c: &mut Client) {
    let card = c.get(&format!("/scenarios/{SCENARIO}/fiche")).await;
    let nf = card_value(&card, "Numéro fiscal").replace(' ', "");
    let password = card_value(&card, "Mot de passe");
    let page =
        c.post_follow(&format!("/scenarios/{SCENARIO}/etape/connexion"), &[("numero_fiscal", &nf), ("mot_de_passe", &password)]).await;
    assert!(page.body.contains("Saisissez votre code de sécurité"), "{}", page.body);
}

fn learners(data: &serde_json::Value) -> &Vec<serde_json::Value> {
    data["snapshot"]["learners"].as_array().unwrap()
}

#[tokio::test]
async fn learners_join_and_leave() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, true).await;
    assert_eq!(code.len(), 6);
    let mut ali = join(&state, &code.to_lowercase(), "Ali").await;
    let bea = join(&state, &format!(" {} ", &code), "Béa").await;
    // The shared persona: the same person for both.
    let card_a = ali.get(&format!("/scenarios/{SCENARIO}/fiche")).await;
    let mut bea = bea;
    let card_b = bea.get(&format!("/scenarios/{SCENARIO}/fiche")).await;
    assert_eq!(card_value(&card_a, "Numéro fiscal"), card_value(&card_b, "Numéro fiscal"));
    let dashboard = trainer.get(&format!("/atelier/animation/{token}")).await;
    assert!(dashboard.body.contains("<th scope=\"row\">Ali</th>") && dashboard.body.contains("<th scope=\"row\">Béa</th>"));
    let room = ali.get("/atelier/salle").await;
    assert!(room.body.contains("Vous participez sous le nom de <strong>Ali</strong>"));

    let left = ali.post_follow("/atelier/quitter", &[]).await;
    assert!(left.body.contains("Vous avez quitté l&#x27;atelier.") || left.body.contains("Vous avez quitté l'atelier."));
    assert_eq!(rehearsal_step(&state, &ali).await, None, "the learner's rehearsal is gone");
    let dashboard = trainer.get(&format!("/atelier/animation/{token}")).await;
    assert!(!dashboard.body.contains("<th scope=\"row\">Ali</th>"));
    assert!(dashboard.body.contains("<th scope=\"row\">Béa</th>"));
}

#[tokio::test]
async fn pseudonyms_only() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, true).await;
    let no_data = "N'indiquez qu'un prénom ou un pseudonyme : pas d'adresse ni de numéro.";
    let empty = "Indiquez un prénom ou un pseudonyme.";
    for (typed, message) in [
        ("marie.dupont@example.org", no_data),
        // Fullwidth and small forms become ASCII under NFKC.
        ("ｍａｒｉｅ＠ｅｘａｍｐｌｅ．ｏｒｇ", no_data),
        ("marie﹫example.org", no_data),
        ("０６ ３９ ９８ １２ ３４", no_data),
        ("06\u{a0}39\u{a0}98\u{a0}12\u{a0}34", no_data),
        // Digits of other scripts.
        ("٠٦٣٩٩٨١٢٣٤", no_data),
        ("०६३९९८१२३४", no_data),
        ("①②③④⑤⑥", no_data),
        // Spelled-out at signs.
        ("marie(at)example.org", no_data),
        ("marie [at] example [dot] org", no_data),
        ("marie at example dot org", no_data),
        ("marie AT example.org", no_data),
        ("marie{at}free", no_data),
        // Nothing visible.
        ("\u{200b}", empty),
        ("\u{200b}\u{200c}\u{2060}\u{feff}", empty),
        ("\u{3164}", empty),
        ("\u{115f}\u{1160}", empty),
        ("\u{2800}", empty),
        ("\u{202e}\u{0}", empty),
        ("\u{301}", empty),
    ] {
        let mut c = Client::with_state(state.clone());
        let page = c.post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", typed)]).await;
        assert_eq!(page.status, StatusCode::OK, "{typed:?}");
        assert!(common::unescape(&page.body).contains(message), "{typed:?}");
    }
    // Invisible characters are dropped, wide letters made plain.
    join(&state, &code, "\u{200b}Ali\u{202e}").await;
    join(&state, &code, "Ｋｅｎｊｉ").await;
    join(&state, &code, "Nour at home").await;
    let dashboard = trainer.get(&format!("/atelier/animation/{token}")).await;
    for shown in ["<th scope=\"row\">Ali</th>", "<th scope=\"row\">Kenji</th>", "<th scope=\"row\">Nour at home</th>"] {
        assert!(dashboard.body.contains(shown), "{shown}: {}", dashboard.body);
    }
}

#[tokio::test]
async fn wrong_codes_are_rate_limited_but_the_right_code_always_gets_in() {
    let state = state_with(Config::default());
    let (_, _, code) = open(&state, true).await;
    let mut c = Client::with_state(state.clone());
    for _ in 0..5 {
        let page = c.post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Ce code ne correspond à aucun atelier en cours."));
    }
    // Blocked now for wrong codes...
    let page = c.post("/atelier/rejoindre", &[("code", "ZZZZZY"), ("pseudonyme", "Ali")]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("Trop de codes erronés"));
    // ...but never for the right one.
    let page = c.post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", "Ali")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// A school or a proxy: many learners behind one address. Wrong codes from
/// that address are limited (30 per ten minutes), the right code is not.
#[tokio::test]
async fn one_address_over_its_limit_still_lets_the_right_code_in() {
    let state = state_with(Config::default());
    let (_, _, code) = open(&state, true).await;
    let school: std::net::SocketAddr = "192.0.2.10:40000".parse().unwrap();
    for i in 0..30 {
        // A new visitor each time: the address is what is counted.
        let mut c = Client::with_state(state.clone());
        c.peer = Some(school);
        let page = c.post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
        assert_eq!(page.status, StatusCode::OK, "attempt {i}");
    }
    let mut guesser = Client::with_state(state.clone());
    guesser.peer = Some(school);
    let page = guesser.post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let mut learner = Client::with_state(state.clone());
    learner.peer = Some(school);
    let page = learner.post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", "Béa")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // Another address is not concerned.
    let mut elsewhere = Client::with_state(state.clone());
    elsewhere.peer = Some("198.51.100.20:40000".parse().unwrap());
    let page = elsewhere.post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Chloé")]).await;
    assert_eq!(page.status, StatusCode::OK);
}

/// `X-Forwarded-For` is read from trusted proxies only: anyone else could
/// write a new address there for every guess.
#[tokio::test]
async fn forwarded_addresses_are_ignored_from_untrusted_peers() {
    let trusted = vec![miroir::testing::web::address::parse_trusted("127.0.0.1").unwrap()];
    let state = state_with(Config { trusted_proxies: trusted, ..Config::default() });
    let (_, _, code) = open(&state, true).await;
    let guess = |forwarded: String, peer: &str| {
        let mut c = Client::with_state(state.clone());
        c.peer = Some(peer.parse().unwrap());
        c.headers.push(("x-forwarded-for".into(), forwarded));
        c
    };
    for i in 0..30 {
        let page =
            guess(format!("203.0.113.{i}"), "192.0.2.50:1").post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
        assert_eq!(page.status, StatusCode::OK, "attempt {i}");
    }
    let page = guess("203.0.113.99".into(), "192.0.2.50:1").post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // From the trusted proxy, the forwarded address is the one counted.
    let page = guess("192.0.2.50".into(), "127.0.0.1:1").post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let page = guess("203.0.113.99".into(), "127.0.0.1:1").post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", "Ali")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_passphrase_restricts_who_opens_workshops() {
    let state = state_with(Config { trainer_passphrase: Some("atelier-2026".into()), ..Config::default() });
    let mut c = Client::with_state(state.clone());
    let form = c.get("/atelier/nouveau").await;
    assert!(form.body.contains("Phrase secrète des formateurs"));
    let refused = c.post("/atelier/nouveau", &[("nom", "X"), ("scenarios", SCENARIO), ("phrase", "non")]).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(refused.body.contains("La phrase secrète des formateurs est incorrecte."));
    assert_eq!(state.workshops.count(), 0);
    let ok = c.post("/atelier/nouveau", &[("nom", "X"), ("scenarios", SCENARIO), ("phrase", "atelier-2026")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

/// Without a passphrase anyone may open a workshop: ten per address every
/// ten minutes, then a French page with 429.
#[tokio::test]
async fn opening_workshops_is_limited_per_address() {
    let state = state_with(Config::default());
    let mut c = Client::with_state(state.clone());
    c.peer = Some("192.0.2.30:50000".parse().unwrap());
    let form = [("nom", "Atelier"), ("scenarios", SCENARIO)];
    for i in 0..10 {
        let reply = c.post("/atelier/nouveau", &form).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "workshop {i}");
    }
    let refused = c.post("/atelier/nouveau", &form).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(common::unescape(&refused.body).contains("Trop d'ateliers ouverts depuis cette adresse"), "{}", refused.body);
    assert_eq!(state.workshops.count(), 10);
    // Another address is not concerned.
    c.peer = Some("192.0.2.31:50000".parse().unwrap());
    assert_eq!(c.post("/atelier/nouveau", &form).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn wrong_passphrases_count_against_the_address() {
    let state = state_with(Config { trainer_passphrase: Some("atelier-2026".into()), ..Config::default() });
    let mut c = Client::with_state(state.clone());
    c.peer = Some("192.0.2.40:50000".parse().unwrap());
    for i in 0..10 {
        let refused = c.post("/atelier/nouveau", &[("nom", "X"), ("scenarios", SCENARIO), ("phrase", &format!("essai-{i}"))]).await;
        assert_eq!(refused.status, StatusCode::OK);
    }
    let page = c.post("/atelier/nouveau", &[("nom", "X"), ("scenarios", SCENARIO), ("phrase", "atelier-2026")]).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(state.workshops.count(), 0);
}

/// The server holds a bounded number of live workshops: when full, a new
/// one is refused, and none of the live ones is forgotten to make room.
#[tokio::test]
async fn a_full_server_refuses_new_workshops_and_keeps_the_live_ones() {
    let state = state_with(Config { max_workshops: 2, ..Config::default() });
    let (mut trainer, first, code) = open(&state, true).await;
    let (_, second, _) = open(&state, true).await;
    let mut c = Client::with_state(state.clone());
    let refused = c.post("/atelier/nouveau", &[("nom", "Un de trop"), ("scenarios", SCENARIO)]).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(common::unescape(&refused.body).contains("Le nombre maximal d'ateliers ouverts en même temps est atteint"), "{}", refused.body);
    for token in [&first, &second] {
        assert_eq!(trainer.get(&format!("/atelier/animation/{token}")).await.status, StatusCode::OK);
    }
    join(&state, &code, "Ali").await;
    // Ending one makes room.
    trainer.post(&format!("/atelier/animation/{second}/clore"), &[]).await;
    assert_eq!(c.post("/atelier/nouveau", &[("nom", "Enfin"), ("scenarios", SCENARIO)]).await.status, StatusCode::SEE_OTHER);
}

/// Under a base path, the page and the live stream give each learner the
/// same reset address, under the base.
#[tokio::test]
async fn the_dashboard_gives_each_learner_s_reset_address_under_the_base_path() {
    let state = state_with(Config { base_path: "/entrainement".into(), ..Config::default() });
    let mut trainer = Client::with_state(state.clone());
    let reply = trainer.post("/atelier/nouveau", &[("nom", "Mardi matin"), ("scenarios", SCENARIO), ("personne", "chacun")]).await;
    let token = reply.location().trim_start_matches("/entrainement/atelier/animation/").to_owned();
    let dashboard = format!("/atelier/animation/{token}");
    let code = trainer.get(&dashboard).await.between("<strong class=\"join-code\">", "</strong>").unwrap();
    let mut learner = Client::with_state(state.clone());
    let joined = learner.post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", "Ali")]).await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    let id = state.workshops.by_token(&token).unwrap().read(|w| w.learners[0].id);
    let reset = format!("/entrainement/atelier/animation/{token}/participants/{id}/recommencer");
    let page = trainer.get(&dashboard).await;
    assert!(common::unescape(&page.body).contains(&format!("<form method=\"post\" action=\"{reset}\"")), "{}", page.body);
    let mut feed = Feed::open(&state, &token).await;
    let data = feed.until(|_, d| learners(d).len() == 1).await;
    assert_eq!(learners(&data)[0]["reset"], reset);
}

#[tokio::test]
async fn the_dashboard_streams_events_as_learners_work() {
    let state = state_with(Config::default());
    let (_, token, code) = open(&state, true).await;
    let mut feed = Feed::open(&state, &token).await;
    let (name, first) = feed.next().await;
    assert_eq!(name, "etat");
    assert!(learners(&first).is_empty());
    let mut ali = join(&state, &code, "Ali").await;
    let joined = feed.until(|_, d| learners(d).len() == 1).await;
    assert_eq!(learners(&joined)[0]["step"], "connexion");
    // Where its "Remettre à zéro" posts, given whole by the server.
    let id = state.workshops.by_token(&token).unwrap().read(|w| w.learners[0].id);
    assert_eq!(learners(&joined)[0]["reset"], format!("/atelier/animation/{token}/participants/{id}/recommencer"));
    // A refused submit counts an error on the step.
    ali.post(&format!("/scenarios/{SCENARIO}/etape/connexion"), &[("numero_fiscal", "123")]).await;
    let refused = feed.until(|_, d| learners(d)[0]["errors_here"] == 1).await;
    assert_eq!(learners(&refused)[0]["errors_total"], 1);
    assert!(refused["heat"].as_array().unwrap().iter().any(|h| h["step"] == "connexion" && h["errors"] == 1 && h["here"] == 1));
    // A step done moves the learner on.
    log_in(&mut ali).await;
    let moved = feed.until(|_, d| learners(d)[0]["step"] == "code-securite").await;
    assert_eq!(learners(&moved)[0]["errors_here"], 0);
    // Counted as the learner's progress train counts: « Étape 1 sur 6 ».
    assert_eq!((learners(&moved)[0]["step_number"].as_u64(), learners(&moved)[0]["steps_total"].as_u64()), (Some(1), Some(6)));
}

#[tokio::test]
async fn reset_and_move_everyone() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, false).await;
    let mut ali = join(&state, &code, "Ali").await;
    let bea = join(&state, &code, "Béa").await;
    log_in(&mut ali).await;
    assert_eq!(rehearsal_step(&state, &ali).await.as_deref(), Some("code-securite"));

    let reply = trainer.post(&format!("/atelier/animation/{token}/recommencer"), &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(rehearsal_step(&state, &ali).await.as_deref(), Some("connexion"));

    let reply = trainer.post(&format!("/atelier/animation/{token}/deplacer"), &[("etape", &format!("{SCENARIO}:revenus"))]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        common::unescape(&reply.body).contains("2 personnes ont été déplacées vers l'étape « Traitements, salaires, pensions et rentes ».")
    );
    for c in [&ali, &bea] {
        assert_eq!(rehearsal_step(&state, c).await.as_deref(), Some("revenus"));
    }
    // The earlier answers are filled: the review follows.
    let page = ali.post_follow(&format!("/scenarios/{SCENARIO}/etape/revenus"), &[("1AJ", "20000")]).await;
    assert!(page.body.contains("Récapitulatif de votre déclaration"), "{}", page.body);
    assert!(page.body.contains("Vérifiez vos informations personnelles"));
    // One learner reset alone.
    let id = state.workshops.by_token(&token).unwrap().read(|w| w.learners[1].id);
    trainer.post(&format!("/atelier/animation/{token}/participants/{id}/recommencer"), &[]).await;
    assert_eq!(rehearsal_step(&state, &bea).await.as_deref(), Some("connexion"));
    assert_eq!(rehearsal_step(&state, &ali).await.as_deref(), Some("recapitulatif"));
}

#[tokio::test]
async fn ending_a_workshop_deletes_its_rehearsals() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, true).await;
    let mut ali = join(&state, &code, "Ali").await;
    log_in(&mut ali).await;
    let mut feed = Feed::open(&state, &token).await;
    feed.next().await;
    let confirm = trainer.get(&format!("/atelier/animation/{token}/clore")).await;
    assert!(confirm.body.contains("Clore l&#x27;atelier") || confirm.body.contains("Clore l'atelier"));
    let closed = trainer.post_follow(&format!("/atelier/animation/{token}/clore"), &[]).await;
    assert!(closed.body.contains("L&#x27;atelier est clos") || closed.body.contains("L'atelier est clos"));
    let (name, last) = feed.next().await;
    assert_eq!(name, "fin");
    assert_eq!(last["snapshot"]["ended"], true);
    assert_eq!(rehearsal_step(&state, &ali).await, None);
    assert_eq!(trainer.get(&format!("/atelier/animation/{token}")).await.status, StatusCode::NOT_FOUND);
    let page = ali.get_follow(&format!("/scenarios/{SCENARIO}/etape")).await;
    assert!(page.body.contains("L&#x27;atelier est terminé") || page.body.contains("L'atelier est terminé"), "{}", page.body);
    // The code no longer works.
    let mut late = Client::with_state(state.clone());
    let page = late.post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", "Chloé")]).await;
    assert!(page.body.contains("Ce code ne correspond à aucun atelier en cours."));
}

#[tokio::test]
async fn idle_workshops_expire() {
    let state = state_with(Config { workshop_idle: Duration::from_millis(300), ..Config::default() });
    let (mut trainer, token, code) = open(&state, true).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(trainer.get(&format!("/atelier/animation/{token}")).await.status, StatusCode::NOT_FOUND);
    let mut c = Client::with_state(state.clone());
    let page = c.post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", "Ali")]).await;
    assert!(page.body.contains("Ce code ne correspond à aucun atelier en cours."));
}

#[tokio::test]
async fn handouts_and_persona_cards() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, false).await;
    join(&state, &code, "Ali").await;
    join(&state, &code, "Béa").await;
    let cards: Page = trainer.get(&format!("/atelier/animation/{token}/fiches")).await;
    assert_eq!(cards.body.matches("class=\"printable-card\"").count(), 2);
    assert!(cards.body.contains("Ali — Déclarer ses revenus en ligne"));
    let handout = trainer.get(&format!("/scenarios/{SCENARIO}/fiche-pas-a-pas?graine=42")).await;
    assert_eq!(handout.status, StatusCode::OK);
    assert!(handout.body.contains("Étape 1 : Connexion à votre espace Finances publiques"));
    assert!(handout.body.contains("Le code reçu dans la messagerie"));
    assert!(handout.body.contains("Conseil pour l"));
    let persona = Library::embedded().get(SCENARIO).unwrap().persona_of(42, None);
    assert!(handout.body.contains(&persona.text("mot_de_passe")));
    let card = trainer.get(&format!("/scenarios/{SCENARIO}/fiche-personnage?graine=42")).await;
    assert!(card.body.contains("personnage n° 42"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_learners_at_once_and_a_consistent_dashboard() {
    let state = state_with(Config::default());
    let (_, token, code) = open(&state, false).await;
    let mut feed = Feed::open(&state, &token).await;
    feed.next().await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let state = state.clone();
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = join(&state, &code, &format!("Participant {i}")).await;
            // One wrong login for even learners, then everyone logs in.
            if i % 2 == 0 {
                c.post(&format!("/scenarios/{SCENARIO}/etape/connexion"), &[("numero_fiscal", "1")]).await;
            }
            log_in(&mut c).await;
            c
        }));
    }
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(t.await.unwrap());
    }
    let last = feed.until(|_, d| learners(d).len() == 30 && learners(d).iter().all(|l| l["step"] == "code-securite")).await;
    let errors: u64 = learners(&last).iter().map(|l| l["errors_total"].as_u64().unwrap()).sum();
    assert_eq!(errors, 15);
    let heat = last["heat"].as_array().unwrap();
    let at_code = heat.iter().find(|h| h["step"] == "code-securite").unwrap();
    assert_eq!(at_code["here"], 30);
    assert_eq!(heat.iter().find(|h| h["step"] == "connexion").unwrap()["errors"], 15);
    // The dashboard agrees with the learners' own rehearsals.
    for c in &clients {
        assert_eq!(rehearsal_step(&state, c).await.as_deref(), Some("code-securite"));
    }
    let versions: u64 = last["snapshot"]["version"].as_u64().unwrap();
    assert!(versions >= 30 * 2, "every join and every move bumped the version");
}

#[tokio::test]
async fn live_streams_end_when_the_server_stops() {
    let state = state_with(Config::default());
    let (_, token, _) = open(&state, true).await;
    let (addr, stop, server) = serve_in_process(&state).await;
    let _stream = open_stream(addr, &token).await;
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("the server stops despite the open stream").unwrap().unwrap();
}

/// The server process behind a reverse proxy: `MIROIR_TRUSTED_PROXIES`
/// names the proxy, whose `X-Forwarded-For` then tells learners apart.
#[test]
fn behind_a_trusted_proxy_each_learner_has_their_own_address() {
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let addr = raw::free_addr();
    let _server = Server(
        std::process::Command::new(env!("CARGO_BIN_EXE_miroir"))
            .args(["serve", "--addr", &addr.to_string()])
            .env("MIROIR_TRUSTED_PROXIES", "10.9.8.7, 127.0.0.0/8")
            .env_remove("MIROIR_TRAINER_PASSPHRASE")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(raw::wait_ready(addr), "the server did not start");
    let opened =
        raw::request(addr, "POST", "/atelier/nouveau", None, Some(&raw::encode(&[("nom", "Atelier"), ("scenarios", SCENARIO)]))).unwrap();
    assert_eq!(opened.status, 303, "{}", opened.body);
    let dashboard = raw::request(addr, "GET", &opened.header("location").unwrap(), None, None).unwrap();
    let from = dashboard.body.find("<strong class=\"join-code\">").unwrap() + "<strong class=\"join-code\">".len();
    let code = dashboard.body[from..from + 6].to_owned();
    let join = |forwarded: &str, code: &str| {
        let form = raw::encode(&[("code", code), ("pseudonyme", "Ali")]);
        raw::request_with(addr, "POST", "/atelier/rejoindre", None, Some(&form), &[("X-Forwarded-For", forwarded)]).unwrap().status
    };
    for i in 0..30 {
        assert_eq!(join("203.0.113.7", "ZZZZZZ"), 200, "attempt {i}");
    }
    assert_eq!(join("203.0.113.7", "ZZZZZZ"), 429);
    // What a client writes before the proxy's own entry changes nothing.
    assert_eq!(join("198.51.100.1, 203.0.113.7", "ZZZZZZ"), 429);
    assert_eq!(join("203.0.113.7, 10.9.8.7", "ZZZZZZ"), 429, "trusted hops are skipped");
    // Another learner behind the same proxy is not concerned.
    assert_eq!(join("203.0.113.8", "ZZZZZZ"), 200);
    // And the right code always gets in.
    assert_eq!(join("203.0.113.7", &code), 303);
}

#[test]
fn trusted_proxies_must_be_addresses_or_ranges() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_miroir"))
        .args(["serve", "--addr", &raw::free_addr().to_string(), "--trusted-proxies", "127.0.0.1,proxy.local"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("proxy.local") && stderr.contains("--trusted-proxies"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_outlasts_the_connection_timeouts() {
    // Every timeout at one second: only reading a request is timed, never
    // the stream that answers it.
    let second = Duration::from_secs(1);
    let limits =
        Limits { header_timeout: second, idle_timeout: second, request_timeout: second, write_timeout: second, ..Limits::default() };
    let state = state_with(Config { limits, ..Config::default() });
    let (_, token, code) = open(&state, true).await;
    let (addr, stop, server) = serve_in_process(&state).await;
    let mut stream = open_stream(addr, &token).await;
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 4096];
    tokio::time::sleep(Duration::from_millis(2500)).await;
    join(&state, &code, "Ali").await;
    let mut got = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !got.contains("Ali") {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await.expect("the learner's event").unwrap();
        assert!(n > 0, "the stream was closed: {got}");
        got.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(8), server).await.expect("the server stops").unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_are_counted_per_network_address_over_a_real_connection() {
    let state = state_with(Config::default());
    open(&state, true).await;
    let (addr, stop, server) = serve_in_process(&state).await;
    // Thirty visitors (no cookie: a new one each time) from one address.
    let statuses = tokio::task::spawn_blocking(move || {
        let form = raw::encode(&[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]);
        (0..31).map(|_| raw::request(addr, "POST", "/atelier/rejoindre", None, Some(&form)).unwrap().status).collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[30], 429, "the address reached its limit: the server knows who is connected");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

// --- One persona everywhere.

async fn set_seed(state: &Shared, c: &Client, seed: u64) {
    let loaded = state.loaded();
    let s = loaded.library.get(SCENARIO).unwrap();
    let mut session = std::sync::Arc::unwrap_or_clone(state.store.load(session_of(c)).await.unwrap().unwrap());
    session.put(miroir::testing::rehearsal::Rehearsal::start(s, seed, miroir::testing::web::clock::now()));
    state.store.save(session_of(c), session.into()).await.unwrap();
}

async fn rehearsal_of(state: &Shared, c: &Client) -> miroir::testing::rehearsal::Rehearsal {
    state.store.load(session_of(c)).await.unwrap().unwrap().rehearsals[SCENARIO].clone()
}

/// A seed whose persona (at `valid_as_of`) is in `situation`.
fn seed_in(situation: &str) -> u64 {
    let lib = Library::embedded();
    let s = lib.get(SCENARIO).unwrap();
    (1..).find(|&seed| s.persona_of(seed, None).text("situation_familiale") == situation).unwrap()
}

#[tokio::test]
async fn the_handout_types_what_the_persona_card_says() {
    let mut c = Client::embedded();
    for seed in [seed_in("celibataire"), seed_in("marie")] {
        let persona = Library::embedded().get(SCENARIO).unwrap().persona_of(seed, None);
        let handout = common::unescape(&c.get(&format!("/scenarios/{SCENARIO}/fiche-pas-a-pas?graine={seed}")).await.body);
        let salaires = persona.text("salaires");
        assert!(
            handout.contains(&format!("<dd>{salaires}</dd>")) || handout.contains(&salaires),
            "seed {seed}: no {salaires} in\n{handout}"
        );
        // The walkthrough's own figures are test data, not this person's.
        assert!(!handout.contains(">24000<") && !handout.contains(">38000<"), "seed {seed}:\n{handout}");
        if persona.text("situation_familiale") == "marie" {
            assert!(handout.contains(&persona.text("salaires_conjoint")));
        }
    }
}

#[tokio::test]
async fn moving_a_room_never_changes_a_persona() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, false).await;
    let mut single = join(&state, &code, "Ali").await;
    let mut married = join(&state, &code, "Béa").await;
    let (single_seed, married_seed) = (seed_in("celibataire"), seed_in("marie"));
    set_seed(&state, &single, single_seed).await;
    set_seed(&state, &married, married_seed).await;
    let reply = trainer.post(&format!("/atelier/animation/{token}/deplacer"), &[("etape", &format!("{SCENARIO}:declarant-2"))]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let told = common::unescape(&reply.body);
    assert!(told.contains("1 personne a été déplacée vers l'étape « Déclarant 2 »."), "{told}");
    assert!(told.contains("car le parcours de leur personne ne passe pas par cette étape") && told.contains(": Ali."), "{told}");
    assert!(told.contains("role=\"status\""));
    // The single learner stays single, where they were; the married one is
    // moved as herself, with her own spouse.
    let (a, b) = (rehearsal_of(&state, &single).await, rehearsal_of(&state, &married).await);
    assert_eq!((rehearsal_step(&state, &single).await.as_deref(), a.seed, a.pinned), (Some("connexion"), single_seed, None));
    assert_eq!((rehearsal_step(&state, &married).await.as_deref(), b.seed, b.pinned), (Some("declarant-2"), married_seed, None));
    let lib = Library::embedded();
    let s = lib.get(SCENARIO).unwrap();
    assert_eq!(&b.answers["situation"], "marie");
    assert_eq!(b.persona(s, miroir::testing::web::clock::now()).values["conjoint"], s.persona_of(married_seed, None).values["conjoint"]);
    // And everyone restarting keeps everyone's persona.
    trainer.post(&format!("/atelier/animation/{token}/recommencer"), &[]).await;
    for (c, seed) in [(&mut single, single_seed), (&mut married, married_seed)] {
        let r = rehearsal_of(&state, c).await;
        assert_eq!((r.seed, r.pinned, r.current(s).id.as_str()), (seed, None, "connexion"));
        let card = common::unescape(&c.get(&format!("/scenarios/{SCENARIO}/fiche")).await.body);
        assert_eq!(card.contains("Conjoint"), seed == married_seed);
    }
}

#[tokio::test]
async fn everyone_restarting_clears_the_old_errors() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, true).await;
    let mut ali = join(&state, &code, "Ali").await;
    let mut feed = Feed::open(&state, &token).await;
    ali.post(&format!("/scenarios/{SCENARIO}/etape/connexion"), &[("numero_fiscal", "123")]).await;
    ali.post(&format!("/scenarios/{SCENARIO}/etape/connexion"), &[("numero_fiscal", "123")]).await;
    feed.until(|_, d| learners(d).first().is_some_and(|l| l["errors_here"] == 2)).await;
    trainer.post(&format!("/atelier/animation/{token}/recommencer"), &[]).await;
    let after = feed.until(|_, d| learners(d)[0]["errors_total"] == 0).await;
    assert_eq!(learners(&after)[0]["errors_here"], 0);
    assert!(after["heat"].as_array().unwrap().iter().all(|h| h["errors"] == 0), "{after}");
}

#[tokio::test]
async fn a_code_valid_30_minutes_is_expired_after_30_minutes_and_odd_clock_values_are_refused() {
    let state = state_with(Config::default());
    let (_, _, code) = open(&state, true).await;
    let mut ali = join(&state, &code, "Ali").await;
    log_in(&mut ali).await;
    // A duration the form does not offer.
    for minutes in ["7", "", "quinze", "-15"] {
        let refused = ali.post(&format!("/scenarios/{SCENARIO}/horloge"), &[("minutes", minutes)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{minutes}");
        assert!(common::unescape(&refused.body).contains("Ce choix n'est pas proposé par le formulaire"));
    }
    assert_eq!(rehearsal_of(&state, &ali).await.skipped_minutes, 0);
    // The code is "valable 30 minutes": twice 15 minutes reach the stated minute.
    for _ in 0..2 {
        let moved = ali.post(&format!("/scenarios/{SCENARIO}/horloge"), &[("minutes", "15")]).await;
        assert_eq!(moved.status, StatusCode::SEE_OTHER);
    }
    let r = rehearsal_of(&state, &ali).await;
    assert_eq!(r.skipped_minutes, 30);
    let loaded = state.loaded();
    let s = loaded.library.get(SCENARIO).unwrap();
    let sent = r.inbox.last().unwrap();
    let typed = miroir::testing::rehearsal::inbox::code(&r, miroir::testing::rehearsal::inbox::message(s, sent).unwrap(), sent).unwrap();
    let page = ali.post_follow(&format!("/scenarios/{SCENARIO}/etape/code-securite"), &[("code", &typed)]).await;
    assert!(common::unescape(&page.body).contains("Le code de sécurité a expiré"), "{}", page.body);
}

#[tokio::test]
async fn learners_are_told_once_when_the_trainer_resets_or_moves_them() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, true).await;
    let mut ali = join(&state, &code, "Ali").await;
    log_in(&mut ali).await;
    trainer.post(&format!("/atelier/animation/{token}/recommencer"), &[]).await;
    let page = ali.get_follow(&format!("/scenarios/{SCENARIO}/etape")).await;
    let told = "<div class=\"notice\" role=\"status\"><p>La personne qui anime l&#x27;atelier vous a fait recommencer : l&#x27;entraînement reprend au début, avec la même personne.</p></div>";
    assert!(page.body.contains(told), "{}", page.body);
    let again = ali.get_follow(&format!("/scenarios/{SCENARIO}/etape")).await;
    assert!(!again.body.contains("vous a fait recommencer"));
    trainer.post(&format!("/atelier/animation/{token}/deplacer"), &[("etape", &format!("{SCENARIO}:revenus"))]).await;
    let page = common::unescape(&ali.get_follow(&format!("/scenarios/{SCENARIO}/etape")).await.body);
    assert!(page.contains("La personne qui anime l'atelier vous a fait passer à l'étape « Traitements, salaires, pensions et rentes » : les étapes précédentes ont été remplies pour vous."), "{page}");
}

#[tokio::test]
async fn the_dashboard_names_steps_without_anyone_s_name() {
    let state = state_with(Config::default());
    let (mut trainer, token, code) = open(&state, false).await;
    let mut ali = join(&state, &code, "Ali").await;
    log_in(&mut ali).await;
    let r = rehearsal_of(&state, &ali).await;
    let loaded = state.loaded();
    let s = loaded.library.get(SCENARIO).unwrap();
    let sent = r.inbox.last().unwrap();
    let typed = miroir::testing::rehearsal::inbox::code(&r, miroir::testing::rehearsal::inbox::message(s, sent).unwrap(), sent).unwrap();
    let page = ali.post_follow(&format!("/scenarios/{SCENARIO}/etape/code-securite"), &[("code", &typed)]).await;
    let persona = r.persona(s, miroir::testing::web::clock::now());
    assert!(page.body.contains(&format!("Bonjour {} {}", persona.text("prenom"), persona.text("nom"))));
    let mut feed = Feed::open(&state, &token).await;
    let data = feed.until(|_, d| learners(d)[0]["step"] == "accueil").await;
    assert_eq!(learners(&data)[0]["step_title"], "Bonjour (prénom) (nom)");
    let dashboard = common::unescape(&trainer.get(&format!("/atelier/animation/{token}")).await.body);
    assert!(dashboard.contains("Bonjour (prénom) (nom)"), "{dashboard}");
    let example = s.persona_of(1, None);
    for p in [&persona, &example] {
        let name = format!("{} {}", p.text("prenom"), p.text("nom"));
        assert!(!dashboard.contains(&name), "{name} on the dashboard");
    }
}
