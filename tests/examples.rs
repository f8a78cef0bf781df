//! The examples build and run: `embed` mounts miroir under a path of
//! another axum application; the links, redirects, assets and cookie all
//! stay under that path. (`examples/custom` is checked in docs_examples.)

#[path = "../examples/embed.rs"]
#[allow(dead_code)]
mod embed;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = axum::body::to_bytes(response.into_body(), 1 << 22).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn miroir_runs_under_a_prefix_of_another_application() {
    let app = embed::app();
    let (status, _, home) = send(&app, get("/", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("href=\"/entrainement\""));

    let (status, _, catalogue) = send(&app, get("/entrainement", None)).await;
    assert_eq!(status, StatusCode::OK, "{catalogue}");
    let plain = miroir::testing::expr::plain(&catalogue);
    assert!(plain.contains("href=\"/entrainement/scenarios/impots/declaration-revenus\""), "{plain}");
    assert!(plain.contains("href=\"/entrainement/static/base/base.css\""));
    assert!(plain.contains("href=\"/entrainement/_miroir/miroir.css\""));
    assert!(!plain.contains("href=\"/scenarios/"), "no link escapes the prefix");
    assert!(plain.contains("<a href=\"/entrainement\">miroir"), "the service name leads to the catalogue");
    let (status, _, css) = send(&app, get("/entrainement/_miroir/miroir.css", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("miroir-banner"));

    let start = Request::post("/entrainement/scenarios/impots/declaration-revenus/commencer")
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&app, start).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(location, "/entrainement/scenarios/impots/declaration-revenus/etape/connexion");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("Path=/entrainement"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let (status, _, page) = send(&app, get(&location, Some(&pair))).await;
    assert_eq!(status, StatusCode::OK);
    let plain = miroir::testing::expr::plain(&page);
    assert!(plain.contains("action=\"/entrainement/scenarios/impots/declaration-revenus/etape/connexion\""), "{plain}");
    assert!(plain.contains("href=\"/entrainement/scenarios/impots/declaration-revenus/fiche\""));
    assert!(page.contains(miroir::testing::web::render::BANNER));
}
