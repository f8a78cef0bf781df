//! The web layer: the rehearsal engine served over HTTP with axum. Pages
//! are rendered by theme templates; sessions live in a [`SessionStore`].

pub mod pages;
pub mod render;
mod security;
mod visitor;

use crate::library::Library;
use crate::session::{MemoryStore, SessionStore};
use arc_swap::ArcSwap;
use axum::routing::{get, post};
use axum::Router;
use render::Renderer;
use std::net::SocketAddr;
use std::sync::Arc;

/// A library with the renderer of its themes: swapped as one on reload.
pub struct Loaded {
    pub library: Library,
    pub renderer: Renderer,
}

impl Loaded {
    pub fn new(library: Library) -> Loaded {
        let renderer = Renderer::new(Arc::new(library.themes.clone()));
        Loaded { library, renderer }
    }
}

/// Settings of one server.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Always mark the cookie `Secure` (also done per request behind an
    /// https proxy that sets `X-Forwarded-Proto`).
    pub secure_cookies: bool,
}

/// What every handler shares.
pub struct AppState {
    current: ArcSwap<Loaded>,
    pub store: Arc<dyn SessionStore>,
    pub config: Config,
}

pub type Shared = Arc<AppState>;

impl AppState {
    pub fn new(library: Library, store: Arc<dyn SessionStore>, config: Config) -> Shared {
        Arc::new(AppState { current: ArcSwap::from_pointee(Loaded::new(library)), store, config })
    }

    /// A server on `library` with sessions in memory.
    pub fn in_memory(library: Library) -> Shared {
        AppState::new(library, Arc::new(MemoryStore::default()), Config::default())
    }

    /// The library and renderer as they are now.
    pub fn loaded(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Replaces the library (hot reload).
    pub fn replace(&self, library: Library) {
        self.current.store(Arc::new(Loaded::new(library)));
    }
}

/// Every route of a miroir site.
pub fn router(state: Shared) -> Router {
    let scenario = Router::new()
        .route("/", get(pages::scenario_page))
        .route("/commencer", post(pages::start))
        .route("/etape", get(pages::current_step))
        .route("/etape/{step}", get(pages::step_page).post(pages::submit))
        .route("/precedent", post(pages::back))
        .route("/modifier/{step}", post(pages::edit))
        .route("/recommencer", get(pages::confirm_reset).post(pages::reset))
        .route("/nouvelle-personne", get(pages::confirm_new_persona).post(pages::new_persona))
        .route("/fiche", get(pages::card))
        .route("/messagerie", get(pages::inbox))
        .route("/messagerie/{n}", get(pages::message))
        .route("/messagerie/{n}/lien", post(pages::follow_link))
        .route("/horloge", post(pages::wait))
        .route("/document", get(pages::document));
    let routes = Router::new()
        .route("/", get(pages::catalogue))
        .route("/accessibilite", get(pages::accessibility))
        .route("/indices", post(pages::toggle_hints))
        .route("/robots.txt", get(pages::robots))
        .route("/healthz", get(pages::healthz))
        .route("/_miroir/{file}", get(pages::engine_asset))
        .route("/static/{theme}/{*path}", get(pages::theme_asset))
        .nest("/scenarios/{op}/{name}", scenario)
        .fallback(pages::not_found)
        .with_state(state.clone());
    security::wrap(routes, state)
}

/// Why the server could not start.
#[derive(Debug)]
pub enum ServeError {
    /// The address is taken, or not ours to listen on.
    Bind(SocketAddr, std::io::Error),
    Io(std::io::Error),
}

/// Serves until SIGINT or SIGTERM, then finishes the requests under way.
pub async fn serve(state: Shared, addr: SocketAddr) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| ServeError::Bind(addr, e))?;
    tracing::info!(%addr, "listening");
    serve_on(listener, state, shutdown_signal()).await.map_err(ServeError::Io)
}

/// Serves on a bound listener until `stop` resolves, then finishes the
/// requests under way.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Shared,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service()).with_graceful_shutdown(stop).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
