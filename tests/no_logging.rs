//! No answer is ever written to the logs: a rehearsal with distinctive
//! values runs against a real server logging everything at TRACE level,
//! and none of the values shows up in any line.

#[path = "common/raw.rs"]
mod raw;

use miroir::testing::library::Library;
use miroir::testing::web::{self, AppState};
use raw::{encode, request};
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_never_reach_the_logs() {
    let logs = Captured::default();
    tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(logs.clone()).with_ansi(false).init();

    let state = AppState::in_memory(Library::embedded());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve_on(listener, state, async {
        let _ = stopped.await;
    }));

    let distinctive = ["Zyxwvut-4242-secret", "zyxwvut4242@example.org", "7351937"];
    let walk = tokio::task::spawn_blocking(move || {
        let base = "/scenarios/impots/declaration-revenus";
        let start = request(addr, "POST", &format!("{base}/commencer"), None, Some("")).unwrap();
        let cookie = start.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
        let card = request(addr, "GET", &format!("{base}/fiche"), Some(&cookie), None).unwrap().body;
        let value = |label: &str| {
            let marker = format!("<dt>{label}</dt><dd class=\"identifier\">");
            let from = card.find(&marker).unwrap() + marker.len();
            card[from..from + card[from..].find("</dd>").unwrap()].to_owned()
        };
        let nf = value("Numéro fiscal").replace(' ', "");
        let password = value("Mot de passe");
        let post = |step: &str, pairs: &[(&str, &str)]| {
            request(addr, "POST", &format!("{base}/etape/{step}"), Some(&cookie), Some(&encode(pairs))).unwrap()
        };
        // A wrong password first: refused, and not logged either.
        assert_eq!(post("connexion", &[("numero_fiscal", &nf), ("mot_de_passe", "Zyxwvut-4242-secret")]).status, 200);
        assert_eq!(post("connexion", &[("numero_fiscal", &nf), ("mot_de_passe", &password)]).status, 303);
        let message = request(addr, "GET", &format!("{base}/messagerie/0"), Some(&cookie), None).unwrap().body;
        let from = message.find("<strong class=\"code\">").unwrap() + "<strong class=\"code\">".len();
        let code = message[from..from + 6].to_owned();
        assert_eq!(post("code-securite", &[("code", &code)]).status, 303);
        assert_eq!(post("accueil", &[]).status, 303);
        assert_eq!(
            post("informations", &[("situation", "celibataire"), ("adresse_identique", "oui"), ("courriel", "zyxwvut4242@example.org")])
                .status,
            303
        );
        assert_eq!(post("rubriques", &[("rubriques", "salaires")]).status, 303);
        assert_eq!(post("revenus", &[("1AJ", "7351937")]).status, 303);
        let review = request(addr, "GET", &format!("{base}/etape/recapitulatif"), Some(&cookie), None).unwrap().body;
        assert!(review.contains("zyxwvut4242@example.org"), "the answers were kept");
        (nf, password, code)
    });
    let (nf, password, code) = walk.await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    if std::env::var("SHOW_LOGS").is_ok() {
        eprintln!("{text}");
    }
    assert!(text.contains("route=/scenarios/{op}/{name}/etape/{step}"), "{text}");
    assert!(text.contains("status=303") && text.contains("latency_us="));
    for value in distinctive.iter().copied().chain([nf.as_str(), password.as_str(), code.as_str()]) {
        assert!(!text.contains(value), "`{value}` appears in the logs:\n{text}");
    }
}

/// A panic's message may hold an answer: the log says that a request
/// panicked, and where, never with what.
#[tokio::test]
async fn a_panic_is_logged_with_its_place_not_its_message() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(logs.clone()).with_ansi(false).finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let state = AppState::in_memory(Library::embedded());
    /// A handler that fails on what was typed, and says it.
    fn read(typed: &str) -> &'static str {
        panic!("cannot read {typed}")
    }
    let routes = axum::Router::new()
        .route("/boum", axum::routing::get(|| async { read("Zyxwvut-4242-secret") }))
        .route("/refus/{n}", axum::routing::get(|| async { StatusCode::INTERNAL_SERVER_ERROR }));
    let app = web::security::wrap(routes, state);
    // The hook `miroir serve` installs, for the time of the request.
    let previous = std::panic::take_hook();
    web::security::log_panics_by_place();
    let refused = app.clone().oneshot(Request::get("/refus/7").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let response = app.oneshot(Request::get("/boum").body(Body::empty()).unwrap()).await;
    std::panic::set_hook(previous);
    let response = response.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("Le service a rencontré un problème"), "{body}");
    assert!(!body.contains("Zyxwvut"));
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("ERROR") && text.contains("a request handler panicked"), "{text}");
    assert!(text.contains("place=tests/no_logging.rs:"), "the place is logged:\n{text}");
    // A refusal replaced by the French page keeps its route in the log.
    assert!(text.contains("route=/refus/{n} status=500"), "the route of a 500 is logged:\n{text}");
    assert!(!text.contains("Zyxwvut-4242-secret"), "the panic's message is in the logs:\n{text}");
}
