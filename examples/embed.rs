//! miroir as a library: its router mounted under `/entrainement` inside an
//! existing axum application, such as a town's or an association's site.
//!
//! Run it with `cargo run --example embed`, then open
//! <http://127.0.0.1:3000/>. `ADDR=0.0.0.0:3000` listens on the network.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use miroir::{AppState, Config, Library, Limits, MemoryStore};
use std::sync::Arc;

/// Where miroir is mounted.
pub const PREFIX: &str = "/entrainement";

/// The host application: its own home page, and miroir under [`PREFIX`].
pub fn app() -> Router {
    let config = Config { base_path: PREFIX.into(), ..Config::default() };
    let state = AppState::new(Library::embedded(), Arc::new(MemoryStore::default()), config);
    Router::new().route("/", get(home)).nest(PREFIX, miroir::router(state))
}

async fn home() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Maison des services</title></head>",
        "<body><main><h1>Maison des services</h1>",
        "<p>Pour s'entraîner aux démarches en ligne avant de les faire pour de vrai :</p>",
        "<p><a href=\"/entrainement\">Les sites d'entraînement</a></p></main></body></html>"
    ))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("serving http://{addr}/ (miroir under {PREFIX}/)");
    // miroir's accept loop serves the whole application, with its timeouts,
    // connection cap and shutdown deadline, and gives handlers the peer's
    // address, so that miroir's limits (wrong join codes, workshops opened)
    // count per address rather than for everyone together.
    miroir::serve_app(listener, app(), Limits::default(), miroir::shutdown_signal()).await
}
