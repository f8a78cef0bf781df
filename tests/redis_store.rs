//! Sessions in Redis (`miroir serve --redis`), with a real `redis-server`
//! started by the test (see `common/redis_server.rs`): two instances share
//! a rehearsal and one dies mid-way; Redis stops mid-rehearsal (503 page)
//! and comes back with its append-only file (nothing lost); the idle
//! expiry is a TTL refreshed on use; sessions are stored compactly.

mod common;
#[path = "common/raw.rs"]
mod raw;
#[path = "common/redis_server.rs"]
mod redis_server;

use miroir::testing::library::Library;
use miroir::testing::session::{RedisStore, Session, SessionStore};
use miroir::testing::web::AppState;
use raw::{Reply, free_addr, request, wait_ready};
use redis_server::RedisServer;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_miroir");
const BASE: &str = "/scenarios/impots/declaration-revenus";

/// A `miroir serve --redis` process, killed when dropped.
struct Instance {
    child: Child,
    addr: SocketAddr,
    _log: tempfile::NamedTempFile,
}

impl Instance {
    fn start(redis: &RedisServer) -> Instance {
        let addr = free_addr();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new(BIN)
            .args(["serve", "--addr", &addr.to_string(), "--redis", &redis.url()])
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        let instance = Instance { child, addr, _log: log };
        assert!(wait_ready(addr), "miroir serve --redis did not start:\n{}", instance.log());
        instance
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._log.path()).unwrap_or_default()
    }

    /// Kills the process at once, as a crash or an OOM killer would.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A browser: one cookie, any instance.
#[derive(Default)]
struct Browser {
    cookie: Option<String>,
}

impl Browser {
    fn send(&mut self, at: SocketAddr, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Reply {
        let body = form.map(raw::encode);
        let reply = request(at, method, path, self.cookie.as_deref(), body.as_deref()).unwrap();
        if let Some(set) = reply.header("set-cookie") {
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
        }
        reply
    }

    fn get(&mut self, at: SocketAddr, path: &str) -> Reply {
        self.send(at, "GET", path, None)
    }

    /// Posts, expects a redirect, returns where to.
    fn post(&mut self, at: SocketAddr, path: &str, form: &[(&str, &str)]) -> String {
        let reply = self.send(at, "POST", path, Some(form));
        assert_eq!(reply.status, 303, "POST {path} on {at}: {}\n{}", reply.head, reply.body);
        reply.header("location").unwrap()
    }
}

fn between(body: &str, start: &str, end: &str) -> Option<String> {
    let from = body.find(start)? + start.len();
    let to = body[from..].find(end)? + from;
    Some(common::unescape(&body[from..to]))
}

/// The numéro fiscal and password on the persona card.
fn credentials(b: &mut Browser, at: SocketAddr) -> (String, String) {
    let card = b.get(at, &format!("{BASE}/fiche"));
    assert_eq!(card.status, 200, "{}", card.body);
    let nf = between(&card.body, "<dt>Numéro fiscal</dt><dd class=\"identifier\">", "</dd>").unwrap().replace(' ', "");
    let password = between(&card.body, "<dt>Mot de passe</dt><dd class=\"identifier\">", "</dd>")
        .or_else(|| between(&card.body, "<dt>Mot de passe</dt><dd>", "</dd>"))
        .unwrap();
    (nf, password)
}

/// The security code of the last message.
fn code_from_inbox(b: &mut Browser, at: SocketAddr) -> String {
    let message = b.get(at, &format!("{BASE}/messagerie/0"));
    assert_eq!(message.status, 200, "{}", message.body);
    between(&message.body, "<strong class=\"code\">", "</strong>").expect("a code")
}

#[test]
fn two_instances_share_a_rehearsal_and_the_visitor_goes_on_when_one_dies() {
    let redis = RedisServer::start();
    let mut a = Instance::start(&redis);
    let b_instance = Instance::start(&redis);
    let (on_a, on_b) = (a.addr, b_instance.addr);

    // Workshops too: a room opened on B is served by A (its dashboard).
    let mut trainer = Browser::default();
    let dashboard =
        trainer.post(on_b, "/atelier/nouveau", &[("nom", "Mardi"), ("scenarios", "impots/declaration-revenus"), ("personne", "meme")]);
    assert!(dashboard.starts_with("/atelier/animation/"), "{dashboard}");
    eventually("the dashboard on A", || trainer.get(on_a, &dashboard).status == 200);

    let mut visitor = Browser::default();

    // Each request goes to one instance or the other, as a load balancer
    // without sticky sessions sends them.
    let to = visitor.post(on_a, &format!("{BASE}/commencer"), &[]);
    assert!(to.ends_with("/etape/connexion"), "{to}");
    let (nf, password) = credentials(&mut visitor, on_b);
    let step = visitor.get(on_a, &to);
    assert_eq!(step.status, 200);
    let to = visitor.post(on_b, &format!("{BASE}/etape/connexion"), &[("numero_fiscal", &nf), ("mot_de_passe", &password)]);
    assert!(to.ends_with("/etape/code-securite"), "{to}");
    let code = code_from_inbox(&mut visitor, on_a);
    let to = visitor.post(on_a, &format!("{BASE}/etape/code-securite"), &[("code", &code)]);
    assert!(to.ends_with("/etape/accueil"), "{to}");
    visitor.post(on_b, &format!("{BASE}/etape/accueil"), &[]);
    let informations = visitor.get(on_a, &format!("{BASE}/etape/informations"));
    let email = between(&informations.body, "name=\"courriel\" value=\"", "\"").unwrap();
    visitor.post(
        on_b,
        &format!("{BASE}/etape/informations"),
        &[("situation", "celibataire"), ("adresse_identique", "oui"), ("courriel", &email)],
    );
    visitor.post(on_a, &format!("{BASE}/etape/rubriques"), &[("rubriques", "salaires")]);
    let to = visitor.post(on_a, &format!("{BASE}/etape/revenus"), &[("1AJ", "24000")]);
    assert!(to.ends_with("/etape/recapitulatif"), "{to}");

    // The review, rendered (and kept in A's page cache); then B changes
    // the income: A's next page of the same step shows the change.
    let review = visitor.get(on_a, &to);
    assert!(review.body.contains("24\u{202f}000 €"), "{}", review.body);
    visitor.post(on_b, &format!("{BASE}/precedent"), &[]);
    visitor.post(on_b, &format!("{BASE}/etape/revenus"), &[("1AJ", "31000")]);
    let review = visitor.get(on_a, &to);
    assert!(review.body.contains("31\u{202f}000 €") && !review.body.contains("24\u{202f}000 €"), "a stale page on A:\n{}", review.body);

    // A dies mid-rehearsal; the visitor goes on, on B, with every answer.
    a.kill();
    let review = visitor.get(on_b, &to);
    assert_eq!(review.status, 200, "{}", review.body);
    for answer in ["31\u{202f}000 €", &email, "Célibataire"] {
        assert!(review.body.contains(answer), "the review on B lacks {answer}:\n{}", review.body);
    }
    visitor.post(on_b, &format!("{BASE}/etape/recapitulatif"), &[]);
    let to = visitor.post(on_b, &format!("{BASE}/etape/signature"), &[("certifie", "on")]);
    let receipt = visitor.get(on_b, &to);
    assert!(receipt.body.contains("Votre déclaration a bien été envoyée"), "{}", receipt.body);
    let (again, _) = credentials(&mut visitor, on_b);
    assert_eq!(again, nf, "the same persona throughout");
}

/// Requests until `check` passes, within a deadline.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what}: not within 30 s");
}

#[test]
fn redis_stopped_mid_rehearsal_gives_a_503_page_and_nothing_is_lost_when_it_returns() {
    let mut redis = RedisServer::start();
    let mut server = Instance::start(&redis);
    let at = server.addr;
    let mut visitor = Browser::default();
    visitor.post(at, &format!("{BASE}/commencer"), &[]);
    let (nf, password) = credentials(&mut visitor, at);
    let to = visitor.post(at, &format!("{BASE}/etape/connexion"), &[("numero_fiscal", &nf), ("mot_de_passe", &password)]);
    assert!(to.ends_with("/etape/code-securite"), "{to}");
    let code = code_from_inbox(&mut visitor, at);

    redis.kill();
    let cookie = visitor.cookie.clone();
    for (method, path, form) in [
        ("GET", to.as_str(), None),
        ("POST", "/scenarios/impots/declaration-revenus/etape/code-securite", Some(&[("code", code.as_str())][..])),
        ("GET", "/", None),
        ("GET", "/scenarios/impots/declaration-revenus/fiche", None),
    ] {
        let page = visitor.send(at, method, path, form);
        assert_eq!(page.status, 503, "{method} {path} with Redis down: {}\n{}", page.head, page.body);
        assert!(page.body.contains("Service momentanément indisponible"), "{}", page.body);
        assert!(page.body.contains(miroir::testing::web::render::BANNER), "the 503 page is a page of the site");
        assert_eq!(page.header("retry-after").as_deref(), Some("10"));
        assert_eq!(visitor.cookie, cookie, "no new session in place of the one that could not be read");
    }
    // A new visitor cannot start either: nothing is kept elsewhere.
    let newcomer = Browser::default().send(at, "POST", &format!("{BASE}/commencer"), Some(&[]));
    assert_eq!(newcomer.status, 503);
    assert!(newcomer.header("set-cookie").is_none(), "no cookie for a session that was not kept");
    let health = request(at, "GET", "/healthz", None, None).unwrap();
    assert!(health.body.contains("\"session_store\":\"unavailable\""), "{}", health.body);
    assert!(server.is_running(), "no panic, no exit:\n{}", server.log());

    // Redis comes back with its append-only file: the rehearsal goes on
    // where it was, as the same persona, by itself.
    redis.restart();
    eventually("the step page again", || visitor.get(at, &to).status == 200);
    let page = visitor.get(at, &to);
    assert!(page.body.contains("Saisissez votre code de sécurité"), "{}", page.body);
    assert_eq!(credentials(&mut visitor, at).0, nf);
    let next = visitor.post(at, &format!("{BASE}/etape/code-securite"), &[("code", &code)]);
    assert!(next.ends_with("/etape/accueil"), "{next}");
    let health = request(at, "GET", "/healthz", None, None).unwrap();
    assert!(health.body.contains("\"session_store\":\"ok\""), "{}", health.body);
    assert!(server.is_running());
    assert!(!server.log().contains(&nf), "no answer in the logs");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn the_idle_expiry_is_a_ttl_refreshed_on_every_load_and_save() {
    let redis = RedisServer::start();
    let mut inside = redis.connection().unwrap();
    runtime().block_on(async {
        let store = RedisStore::open(&redis.url(), miroir::testing::session::IDLE).unwrap();
        let id = uuid::Uuid::new_v4();
        let key = format!("miroir:session:{id}");
        let idle = miroir::testing::session::IDLE.as_secs() as i64;
        store.save(id, Session { hints_hidden: true, ..Session::default() }.into()).await.unwrap();
        let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut inside).unwrap();
        assert!((idle - 5..=idle).contains(&ttl), "TTL {ttl} after a save");
        let _: () = redis::cmd("EXPIRE").arg(&key).arg(100).query(&mut inside).unwrap();
        assert_eq!(store.load(id).await.unwrap().map(|s| s.hints_hidden), Some(true));
        let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut inside).unwrap();
        assert!((idle - 5..=idle).contains(&ttl), "TTL {ttl} after a load: not refreshed");
        // Gone when the TTL runs out, as the memory store forgets.
        let _: () = redis::cmd("PEXPIRE").arg(&key).arg(1).query(&mut inside).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(store.load(id).await.unwrap(), None);
        store.save(id, Session::default().into()).await.unwrap();
        store.remove(id).await.unwrap();
        assert_eq!(store.load(id).await.unwrap(), None);
    });
}

#[test]
fn a_played_rehearsal_is_stored_in_messagepack_smaller_than_json_and_counted() {
    let redis = RedisServer::start();
    let mut inside = redis.connection().unwrap();
    let rt = runtime();
    let _guard = rt.enter();
    let store = std::sync::Arc::new(RedisStore::open(&redis.url(), miroir::testing::session::IDLE).unwrap());
    let state = AppState::new(Library::embedded(), store.clone(), miroir::testing::web::Config::default());
    let mut c = common::Client::with_state(state);
    rt.block_on(async {
        common::walk::walk_over_http(&mut c, "impots/declaration-revenus", 0).await;
    });
    let id = c.cookie.as_deref().unwrap().trim_start_matches("miroir=").to_owned();
    let key = format!("miroir:session:{id}");
    let stored: Vec<u8> = redis::cmd("GET").arg(&key).query(&mut inside).unwrap();
    let session: Session = miroir::testing::session::redis::decode(&stored).unwrap();
    assert!(session.rehearsals.iter().next().is_some_and(|r| !r.answers.is_empty() && !r.computed.is_empty()));
    assert_eq!(miroir::testing::session::redis::encode(&session).unwrap(), stored);
    let json = serde_json::to_vec(&session).unwrap().len();
    println!("a rehearsal of impots/declaration-revenus played to its end: {} bytes in MessagePack, {json} in JSON", stored.len());
    assert!(stored.len() < json, "MessagePack {} bytes, JSON {json}", stored.len());
    // /healthz counts sessions from a scan of the key prefix.
    rt.block_on(store.refresh_count()).unwrap();
    assert_eq!(store.count(), 1);
}

#[test]
fn a_malformed_redis_url_is_a_clear_error_that_never_prints_the_password() {
    let out = Command::new(BIN)
        .args(["serve", "--addr", &free_addr().to_string(), "--redis", "redis://:s3cret@127.0.0.1:port/0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: --redis: invalid Redis URL"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}
