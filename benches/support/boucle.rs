//! The form step that loops onto itself (`benches/boucle.yaml`): every
//! submit is valid, so the POST-redirect-GET cycle can repeat. Shared by
//! the benchmarks that run the cycle through the router.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use miroir::testing::library::{self, Library};
use tower::ServiceExt;

const LOOP: &str = include_str!("../boucle.yaml");
const STEP: &str = "/scenarios/bench/boucle/etape/formulaire";

/// The bundled library with the looping scenario, `bench/boucle`.
pub fn library() -> Library {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bench")).unwrap();
    std::fs::write(dir.path().join("bench/boucle.yaml"), LOOP).unwrap();
    let lib = Library::load(&library::scenarios_over(dir.path()).unwrap(), &library::embedded_themes());
    assert!(lib.get("bench/boucle").is_some(), "{}", lib.render_diagnostics());
    lib
}

/// A visitor on the looping step: their cookie.
pub async fn visitor(router: &axum::Router) -> String {
    let request = Request::post("/scenarios/bench/boucle/commencer").header("sec-fetch-site", "same-origin").body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// One POST-redirect-GET cycle: a submit (303), then the page it leads to.
pub async fn cycle(router: &axum::Router, cookie: &str, n: u64) {
    let body = format!("nom=Durand&montant={n}&date=05%2F03%2F1961&choix=oui");
    let post = Request::post(STEP)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(post).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let get = Request::get(STEP).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let response = router.clone().oneshot(get).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
}
