//! Framing: nobody may show miroir in a frame, unless sites are allowed by
//! name; then the banner is still there, and the session cookie is one a
//! browser sends inside another site's frame.

mod common;

use common::Client;
use miroir::testing::library::Library;
use miroir::testing::session::MemoryStore;
use miroir::testing::web::render::BANNER;
use miroir::testing::web::security::check_frame_ancestor;
use miroir::testing::web::{AppState, Config};
use std::sync::Arc;

#[tokio::test]
async fn nobody_frames_miroir_by_default() {
    let mut c = Client::embedded();
    let page = c.get("/").await;
    assert!(page.header("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(page.header("x-frame-options"), "DENY");
}

#[tokio::test]
async fn allowed_sites_may_frame_it_and_the_banner_stays() {
    let config = Config { frame_ancestors: vec!["https://www.ma-ville.example".into()], ..Config::default() };
    let mut c = Client::with_state(AppState::new(Library::embedded(), Arc::new(MemoryStore::default()), config));
    let start = c.post("/scenarios/impots/declaration-revenus/commencer", &[]).await;
    let cookie = start.header("set-cookie");
    for part in ["SameSite=None", "Secure", "Partitioned", "HttpOnly"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let page = c.get(&start.location()).await;
    assert!(page.header("content-security-policy").contains("frame-ancestors 'self' https://www.ma-ville.example;"));
    assert_eq!(page.header("x-frame-options"), "", "X-Frame-Options cannot allow a list");
    assert!(page.body.contains(BANNER));
}

#[test]
fn origins_are_checked() {
    assert_eq!(check_frame_ancestor("https://www.ma-ville.fr/").unwrap(), "https://www.ma-ville.fr");
    assert!(check_frame_ancestor("http://localhost:3000").is_ok());
    assert!(check_frame_ancestor("http://www.ma-ville.fr").is_err(), "plain http only on this machine");
    assert!(check_frame_ancestor("https://evil.example 'unsafe-inline'").is_err());
    assert!(check_frame_ancestor("*").is_err());
}

#[test]
fn a_bad_origin_stops_the_server_with_a_clear_message() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_miroir"))
        .args(["serve", "--frame-ancestors", "https://ok.example,javascript:alert(1)", "--addr", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: --frame-ancestors: `javascript:alert(1)` is not an https origin"));
}
