//! The web layer: the rehearsal engine served over HTTP with axum. Pages
//! are rendered by theme templates; sessions live in a [`SessionStore`].
//!
//! Every address is in [`routes`]. The page modules (`pages`, `workshops`,
//! `author`, `handouts`) each give their own `routes()`, merged by
//! [`router`] under the layers of [`security`]; they share [`respond`] (the
//! toolkit), `extract` (the scenario, rehearsal and room of a request) and
//! [`error`], never one another (`layering.rs` checks it).

pub(crate) mod address;
mod author;
pub(crate) mod clock;
pub(crate) mod error;
mod extract;
mod fingerprint;
mod flow;
mod fragments;
mod handouts;
#[cfg(test)]
mod layering;
pub(crate) mod limits;
mod origin;
pub(crate) mod page_cache;
pub(crate) mod pages;
mod prepared;
pub(crate) mod render;
pub(crate) mod respond;
pub(crate) mod routes;
pub(crate) mod security;
pub(crate) mod server;
mod view_value;
mod visitor;
pub(crate) mod watch;
pub(crate) mod workshops;

use crate::library::Library;
use crate::session::{MemoryStore, SessionStore};
use arc_swap::ArcSwap;
use axum::Router;
use render::Renderer;
use std::net::SocketAddr;
use std::sync::Arc;

/// A library with the renderer of its themes and the pages rendered from
/// them: swapped as one on reload.
pub struct Loaded {
    pub library: Library,
    pub(crate) renderer: Renderer,
    pub(crate) pages: page_cache::PageCache,
    /// Each scenario's values for the templates, made once.
    pub(crate) prepared: std::collections::HashMap<String, prepared::Prepared>,
}

impl Loaded {
    pub(crate) fn new(library: Library, config: &Config) -> Loaded {
        let renderer = Renderer::new(Arc::new(library.themes.clone()), &config.base_path);
        let mut loaded =
            Loaded { library, renderer, pages: page_cache::PageCache::new(config.page_cache_bytes), prepared: Default::default() };
        loaded.prepared = prepared::Prepared::all(&loaded);
        loaded
    }
}

/// `entrainement/`, `/entrainement/` and `/entrainement` all give
/// `/entrainement`; `/` and nothing give nothing.
pub(crate) fn normalize_base_path(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() { String::new() } else { format!("/{trimmed}") }
}

/// Settings of one server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Always mark the cookie `Secure` (also done per request behind an
    /// https proxy that sets `X-Forwarded-Proto`).
    pub secure_cookies: bool,
    /// When set, opening a workshop asks for this passphrase.
    pub trainer_passphrase: Option<String>,
    /// Workshops are forgotten after this long without activity.
    pub workshop_idle: std::time::Duration,
    /// Sites allowed to show miroir in a frame (origins); none by default.
    pub frame_ancestors: Vec<String>,
    /// The path miroir is mounted under inside another application, such
    /// as `/entrainement`; empty when it is the whole site.
    pub base_path: String,
    /// Bytes of rendered step pages kept for reloads (0: none kept).
    pub page_cache_bytes: u64,
    /// Reverse proxies whose `X-Forwarded-For` gives the client's address
    /// for the per-address limits; nobody's by default.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Live workshops at most: beyond, opening one is refused (a live one
    /// is never forgotten to make room).
    pub max_workshops: u64,
    /// Timeouts and the connection cap of [`serve_on`].
    pub limits: server::Limits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            secure_cookies: false,
            trainer_passphrase: None,
            workshop_idle: std::time::Duration::from_secs(8 * 3600),
            frame_ancestors: Vec::new(),
            base_path: String::new(),
            page_cache_bytes: 32 << 20,
            trusted_proxies: Vec::new(),
            max_workshops: crate::workshop::MAX_WORKSHOPS,
            limits: server::Limits::default(),
        }
    }
}

/// What every handler shares.
pub struct AppState {
    current: ArcSwap<Loaded>,
    /// Where visitors' sessions are kept.
    pub store: Arc<dyn SessionStore>,
    /// The server's settings.
    pub config: Config,
    /// The workshops open.
    pub workshops: Arc<crate::workshop::Registry>,
    /// Wrong join codes, per visitor and per address.
    join_failures: limits::Limiter,
    /// Workshops opened, per address.
    openings: limits::Limiter,
    /// Set when the server stops: live streams end.
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// The state handlers share.
pub type Shared = Arc<AppState>;

impl AppState {
    /// The state serving `library`, with sessions in `store`.
    pub fn new(library: Library, store: Arc<dyn SessionStore>, mut config: Config) -> Shared {
        config.base_path = normalize_base_path(&config.base_path);
        Arc::new(AppState {
            current: ArcSwap::from_pointee(Loaded::new(library, &config)),
            store,
            workshops: Arc::new(crate::workshop::Registry::new(config.workshop_idle, config.max_workshops)),
            join_failures: limits::Limiter::new(limits::WINDOW),
            openings: limits::Limiter::new(limits::WINDOW),
            shutdown: tokio::sync::watch::channel(false).0,
            config,
        })
    }

    /// Tells live streams to end: the server is stopping.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Turns true when the server begins to shut down.
    pub fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// The address a request comes from: the peer, or behind a trusted
    /// proxy, the client it forwards for. None when the server was not
    /// given the peer (a router served without connect info).
    pub fn client_address(&self, request: &axum::http::request::Parts) -> Option<std::net::IpAddr> {
        let peer = request.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        address::client(&self.config.trusted_proxies, peer, &request.headers)
    }

    /// Shares workshops and the limits with every instance on the Redis of
    /// `store` (`serve --redis`): rooms, learners and their progress, live
    /// dashboards, wrong join codes and openings. Returns once the rooms
    /// already in Redis are read (a few seconds at most).
    pub async fn share_through_redis(&self, store: &crate::session::RedisStore) {
        self.join_failures.share(store.connection(), "join-failures");
        self.openings.share(store.connection(), "openings");
        crate::workshop::RedisWorkshops::link(&self.workshops, store.client().clone(), store.connection(), self.config.workshop_idle).await;
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
        self.current.store(Arc::new(Loaded::new(library, &self.config)));
    }

    /// A path of the site as the browser must see it: under the base path.
    pub fn url(&self, path: &str) -> String {
        routes::under(&self.config.base_path, path)
    }
}

/// Every route of a miroir site: each module's own, under the layers of
/// [`security::wrap`].
pub fn router(state: Shared) -> Router {
    let routes = Router::new()
        .merge(pages::routes())
        .merge(handouts::routes())
        .merge(author::routes())
        .merge(workshops::routes())
        .fallback(pages::not_found)
        .with_state(state.clone());
    security::wrap(routes, state)
}

/// Why the server could not start.
#[derive(Debug)]
pub enum ServeError {
    /// The address is taken, or not ours to listen on.
    Bind(SocketAddr, std::io::Error),
    /// Serving failed.
    Io(std::io::Error),
}

/// Serves until SIGINT or SIGTERM, then finishes the requests under way.
pub async fn serve(state: Shared, addr: SocketAddr) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| ServeError::Bind(addr, e))?;
    tracing::info!(%addr, "listening");
    serve_on(listener, state, shutdown_signal()).await.map_err(ServeError::Io)
}

/// Serves on a bound listener, within `state.config.limits`, until `stop`
/// resolves; then finishes the requests under way, within the shutdown
/// deadline.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Shared,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state.clone());
    let limits = state.config.limits.clone();
    let stop = async move {
        stop.await;
        // Live streams never end on their own: tell them.
        state.begin_shutdown();
    };
    server::serve(listener, app, limits, stop).await
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
