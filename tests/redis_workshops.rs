//! Workshops shared through Redis (`serve --redis`), with a real
//! `redis-server` started by the test: two instances (two servers in this
//! process, each with its own connections) behind one address. A room
//! opened on B is known to A when A starts; a learner on A shows live on
//! the dashboard B serves; the trainer's reset, move and end on B reach the
//! learner on A; wrong join codes count across instances.

mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use axum::http::StatusCode;
use common::feed::Feed;
use common::{Client, card_value};
use miroir::testing::library::Library;
use miroir::testing::session::RedisStore;
use miroir::testing::web::{AppState, Config, Shared};
use redis_server::RedisServer;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCENARIO: &str = "impots/declaration-revenus";

/// One instance: its own session store and links to Redis.
async fn instance(redis: &RedisServer) -> Shared {
    let store = Arc::new(RedisStore::open(&redis.url(), miroir::testing::session::IDLE).unwrap());
    let state = AppState::new(Library::embedded(), store.clone(), Config::default());
    state.share_through_redis(&store).await;
    state
}

/// The same browser, on another instance.
fn on(state: &Shared, browser: &Client) -> Client {
    let mut c = Client::with_state(state.clone());
    c.cookie = browser.cookie.clone();
    c
}

/// Waits until `check` passes, within a deadline.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what}: not within 10 s");
}

async fn rehearsal_step(state: &Shared, c: &Client) -> Option<String> {
    let id = uuid::Uuid::parse_str(c.cookie.as_deref()?.trim_start_matches("miroir=")).ok()?;
    let session = state.store.load(id).await.unwrap()?;
    let loaded = state.loaded();
    Some(session.rehearsals.get(SCENARIO)?.current(loaded.library.get(SCENARIO).unwrap()).id.clone())
}

fn learner<'a>(data: &'a serde_json::Value, pseudonym: &str) -> Option<&'a serde_json::Value> {
    data["snapshot"]["learners"].as_array()?.iter().find(|l| l["pseudonym"] == pseudonym)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_on_a_shows_live_on_the_dashboard_of_b_and_the_trainer_reaches_them() {
    let redis = RedisServer::start();
    let b = instance(&redis).await;

    // The trainer opens the workshop on B.
    let mut trainer = Client::with_state(b.clone());
    let reply = trainer.post("/atelier/nouveau", &[("nom", "Mardi matin"), ("scenarios", SCENARIO), ("personne", "meme")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let token = reply.location().trim_start_matches("/atelier/animation/").to_owned();
    let dashboard = trainer.get(&reply.location()).await;
    let code = dashboard.between("<strong class=\"join-code\">", "</strong>").unwrap();
    let mut feed = Feed::open(&b, &token).await;
    feed.next().await;

    // A starts afterwards: it reads the room from Redis.
    let a = instance(&redis).await;
    assert!(a.workshops.by_code(&code).is_some(), "the room opened on B is known to A");

    // The learner joins and plays on A; B's dashboard follows, live.
    let mut ali = Client::with_state(a.clone());
    let reply = ali.post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", "Ali")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let data = feed.until(|_, d| learner(d, "Ali").is_some()).await;
    assert_eq!(learner(&data, "Ali").unwrap()["step"], "connexion");
    let card = ali.get(&format!("/scenarios/{SCENARIO}/fiche")).await;
    let (nf, password) = (card_value(&card, "Numéro fiscal").replace(' ', ""), card_value(&card, "Mot de passe"));
    let refused = ali.post(&format!("/scenarios/{SCENARIO}/etape/connexion"), &[("numero_fiscal", &nf), ("mot_de_passe", "faux")]).await;
    assert_eq!(refused.status, StatusCode::OK);
    feed.until(|_, d| learner(d, "Ali").is_some_and(|l| l["errors_here"] == 1)).await;
    ali.post_follow(&format!("/scenarios/{SCENARIO}/etape/connexion"), &[("numero_fiscal", &nf), ("mot_de_passe", &password)]).await;
    let data = feed.until(|_, d| learner(d, "Ali").is_some_and(|l| l["step"] == "code-securite")).await;
    assert_eq!(learner(&data, "Ali").unwrap()["errors_total"], 1);
    // The dashboard page B renders shows them too.
    let page = trainer.get(&format!("/atelier/animation/{token}")).await;
    assert!(page.body.contains("Ali"), "{}", page.body);

    // The trainer's actions on B reach the learner on A.
    let id = learner(&data, "Ali").unwrap()["id"].as_u64().unwrap();
    let reply = trainer.post(&format!("/atelier/animation/{token}/participants/{id}/recommencer"), &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(rehearsal_step(&a, &ali).await.as_deref(), Some("connexion"));
    let page = ali.get_follow(&format!("/scenarios/{SCENARIO}/etape")).await;
    assert!(page.body.contains("numero_fiscal"), "{}", page.body);
    feed.until(|_, d| learner(d, "Ali").is_some_and(|l| l["step"] == "connexion")).await;
    let reply = trainer.post(&format!("/atelier/animation/{token}/deplacer"), &[("etape", &format!("{SCENARIO}:revenus"))]).await;
    assert_eq!(reply.status, StatusCode::OK, "the dashboard, saying who was moved");
    let page = ali.get_follow(&format!("/scenarios/{SCENARIO}/etape")).await;
    assert!(page.body.contains("Traitements, salaires"), "{}", page.body);
    // A learner's progress reported on A lands in A's copy too.
    eventually("A sees Ali on the income step", async || {
        a.workshops.by_code(&code).is_some_and(|room| room.read(|w| w.learners.iter().any(|l| l.progress.step == "revenus")))
    })
    .await;

    // Ending on B: B's stream ends, A forgets the room, the learner on A is told.
    let reply = trainer.post(&format!("/atelier/animation/{token}/clore"), &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    feed.until(|name, _| name == "fin").await;
    eventually("A forgets the ended room", async || a.workshops.by_code(&code).is_none()).await;
    assert_eq!(rehearsal_step(&a, &ali).await, None, "its rehearsals are deleted");
    let room = ali.get("/atelier/salle").await;
    assert_eq!(room.location(), "/atelier");
    let join = ali.get("/atelier").await;
    assert!(join.body.contains("L&#x27;atelier est terminé") || join.body.contains("L'atelier est terminé"), "{}", join.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_join_codes_count_across_instances() {
    let redis = RedisServer::start();
    let (a, b) = (instance(&redis).await, instance(&redis).await);
    let mut on_a = Client::with_state(a.clone());
    on_a.get("/atelier").await;
    let mut first = on_a.post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
    assert_eq!(first.status, StatusCode::OK);
    // The visitor's cookie now; four more wrong codes on A.
    for _ in 0..4 {
        first = on_a.post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    }
    // The sixth, on B: refused there too.
    let mut on_b = on(&b, &on_a);
    let refused = on_b.post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Ali")]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    // Another visitor on B is not concerned.
    let mut other = Client::with_state(b.clone());
    assert_eq!(other.post("/atelier/rejoindre", &[("code", "ZZZZZZ"), ("pseudonyme", "Béa")]).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workshops_come_back_by_themselves_when_redis_restarts() {
    let mut redis = RedisServer::start();
    let (a, b) = (instance(&redis).await, instance(&redis).await);
    let mut trainer = Client::with_state(b.clone());
    let reply = trainer.post("/atelier/nouveau", &[("nom", "Jeudi"), ("scenarios", SCENARIO), ("personne", "meme")]).await;
    let token = reply.location().trim_start_matches("/atelier/animation/").to_owned();
    let code = trainer.get(&reply.location()).await.between("<strong class=\"join-code\">", "</strong>").unwrap();
    let mut feed = Feed::open(&b, &token).await;
    let mut ali = Client::with_state(a.clone());
    eventually("the room on A", async || a.workshops.by_code(&code).is_some()).await;
    assert_eq!(ali.post("/atelier/rejoindre", &[("code", &code), ("pseudonyme", "Ali")]).await.status, StatusCode::SEE_OTHER);
    feed.until(|_, d| learner(d, "Ali").is_some()).await;

    // Redis goes away and comes back with its append-only file.
    tokio::task::block_in_place(|| redis.kill());
    assert_eq!(ali.get(&format!("/scenarios/{SCENARIO}/fiche")).await.status, StatusCode::SERVICE_UNAVAILABLE);
    // The trainer is not told an action was done when it was not.
    for action in ["recommencer", "clore"] {
        let reply = trainer.post(&format!("/atelier/animation/{token}/{action}"), &[]).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{action}: {}", reply.body);
    }
    assert!(b.workshops.by_token(&token).is_some(), "the workshop goes on");
    tokio::task::block_in_place(|| redis.restart());
    let mut card = ali.get(&format!("/scenarios/{SCENARIO}/fiche")).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while card.status != StatusCode::OK && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        card = ali.get(&format!("/scenarios/{SCENARIO}/fiche")).await;
    }
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);

    // The learner goes on, on A; B's dashboard, still open, follows.
    let (nf, password) = (card_value(&card, "Numéro fiscal").replace(' ', ""), card_value(&card, "Mot de passe"));
    ali.post_follow(&format!("/scenarios/{SCENARIO}/etape/connexion"), &[("numero_fiscal", &nf), ("mot_de_passe", &password)]).await;
    feed.until(|_, d| learner(d, "Ali").is_some_and(|l| l["step"] == "code-securite")).await;
    // And a third instance, started now, finds the room and its learner in Redis.
    let c = instance(&redis).await;
    let room = c.workshops.by_code(&code).expect("the room, from Redis");
    assert!(room.read(|w| w.learners.iter().any(|l| l.pseudonym == "Ali" && l.progress.step == "code-securite")));
}
